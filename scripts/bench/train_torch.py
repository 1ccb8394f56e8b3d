"""PyTorch anchor for scripts/bench/train.ts: one full training step (forward, L1 loss, backward,
Adam (betas 0.9/0.99), EMA 0.999 of the weights) of EDSRmini or SwinIRmini, as our trainer takes it.
Architectures: torch_archs.py.
Bench-only dependency: Debian's python3-torch (run with /usr/bin/python3).
Usage: train_torch.py THREADS MODEL BATCH PATCH [DEVICE=cpu|cuda]; then one line on stdin per step,
one line back: wall ms, loss, process CPU ms. On cuda the step is timed to its end (synchronize)."""
import sys, time
import torch
import torch.nn.functional as F
from torch_archs import EDSR, SwinIR

def main():
    threads, name, N, P = int(sys.argv[1]), sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
    device = torch.device(sys.argv[5] if len(sys.argv) > 5 else 'cpu')
    sync = torch.cuda.synchronize if device.type == 'cuda' else (lambda: None)
    torch.set_num_threads(threads)
    torch.manual_seed(0)
    model = (EDSR() if name == 'edsr-mini' else SwinIR((P, P))).to(device)
    params = [p for p in model.parameters() if p.requires_grad]
    print(f'params {sum(p.numel() for p in params)}', file=sys.stderr, flush=True)
    opt = torch.optim.Adam(params, lr=2e-4, betas=(0.9, 0.99), eps=1e-8)
    ema = [p.detach().clone() for p in params]
    lr, hr = torch.rand(N, 3, P, P, device=device), torch.rand(N, 3, 2 * P, 2 * P, device=device)
    for _ in sys.stdin:
        t0, c0 = time.perf_counter(), time.process_time()
        opt.zero_grad(set_to_none=True)
        loss = F.l1_loss(model(lr), hr)
        loss.backward()
        opt.step()
        with torch.no_grad():
            for e, p in zip(ema, params):
                e.mul_(0.999).add_(p, alpha=0.001)
        sync()
        print(f'{(time.perf_counter() - t0) * 1000:.3f} {loss.item():.6f} {(time.process_time() - c0) * 1000:.3f}', flush=True)

if __name__ == '__main__':
    main()
