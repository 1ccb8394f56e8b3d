"""PyTorch anchor for scripts/bench/grad-step.ts: the same EDSRmini distillation training step
(forward + backward, no optimizer) as our ONNX training graph. Bench-only (Debian python3-torch).
Protocol: reads one line per step request from stdin, answers the step's wall time in ms."""
import sys, time
import torch
import torch.nn.functional as F
from torch_archs import EDSR  # edsr-mini preset

torch.set_num_threads(int(sys.argv[1]) if len(sys.argv) > 1 else 2)
N, P = int(sys.argv[2]), int(sys.argv[3])
VARIANT = sys.argv[4] if len(sys.argv) > 4 else 'paper'  # 'linear': one pyramid of p - t, as ours

K = (torch.tensor([1., 4., 6., 4., 1.])[:, None] * torch.tensor([1., 4., 6., 4., 1.])[None, :] / 256).repeat(3, 1, 1, 1)
def blur(x, factor=1.0):
    return F.conv2d(F.pad(x, (2, 2, 2, 2), mode='reflect'), factor * K, groups=3)
def expand(x):
    up = torch.zeros(x.shape[0], x.shape[1], x.shape[2] * 2, x.shape[3] * 2)
    up[:, :, ::2, ::2] = x
    return blur(up, 4.0)
def pyramid(x, levels=5):
    out, cur = [], x
    for _ in range(levels - 1):
        red = F.avg_pool2d(blur(cur), 2); out.append(cur - expand(red)); cur = red
    return out + [cur]
def lap(a, b):
    return sum(2 ** i * F.l1_loss(x, y) for i, (x, y) in enumerate(zip(pyramid(a), pyramid(b))))
def lap_norm(e):
    return sum(2 ** i * x.abs().mean() for i, x in enumerate(pyramid(e)))
def multilap(p, t):
    if VARIANT == 'linear':
        e = p - t
        return lap_norm(e - blur(e)) + lap_norm(e)
    return lap(p - blur(p), t - blur(t)) + lap(p, t)

torch.manual_seed(0)
model = EDSR()
lr, teacher, hr = torch.rand(N, 3, P, P), torch.rand(N, 3, 2 * P, 2 * P), torch.rand(N, 3, 2 * P, 2 * P)
for line in sys.stdin:
    t0 = time.perf_counter()
    model.zero_grad(set_to_none=True)
    sr = model(lr)
    loss = multilap(sr, teacher) + 0.1 * F.l1_loss(sr, hr)
    loss.backward()
    print(f"{(time.perf_counter() - t0) * 1000:.3f}", flush=True)
