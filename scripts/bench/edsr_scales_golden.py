"""Writes test/fixtures/golden/edsr_x{3,4}_forward.safetensors: seeded random weights of a 2-block EDSRmini
(BasicSR layout, scripts/bench/torch_archs.py) with a PyTorch forward pass on two input sizes,
for test/golden/zoo-edsr-scales.test.ts. Run with Debian's python3-torch:
/usr/bin/python3 scripts/bench/edsr_scales_golden.py"""
import json
import os
import struct
import sys

import torch

sys.path.insert(0, os.path.dirname(__file__))
from torch_archs import EDSR  # noqa: E402

OUT = os.path.join(os.path.dirname(__file__), '..', '..', 'test', 'fixtures', 'golden')


def save_safetensors(path, tensors, metadata):
    header, blobs, offset = {'__metadata__': metadata}, [], 0
    for name, t in tensors.items():
        b = t.detach().contiguous().to(torch.float32).numpy().tobytes()
        header[name] = {'dtype': 'F32', 'shape': list(t.shape), 'data_offsets': [offset, offset + len(b)]}
        blobs.append(b)
        offset += len(b)
    h = json.dumps(header).encode()
    h += b' ' * (-len(h) % 8)
    with open(path, 'wb') as f:
        f.write(struct.pack('<Q', len(h)) + h + b''.join(blobs))


for scale in (3, 4):
    torch.manual_seed(scale)
    model = EDSR(num_feat=16, num_block=2, res_scale=2.0, upscale=scale).eval()  # the upsampler is what differs from x2
    # Trained-like magnitudes: PyTorch's default init gives a near-constant output at this depth.
    with torch.no_grad():
        for p in model.parameters():
            p.normal_(0, 0.05)
    tensors = {f'weight.{k}': v for k, v in model.state_dict().items()}
    for i, (h, w) in enumerate([(12, 16), (9, 13)]):
        x = torch.rand(1, 3, h, w)
        with torch.no_grad():
            tensors[f'input_{i}'] = x
            tensors[f'output_{i}'] = model(x)
    save_safetensors(os.path.join(OUT, f'edsr_x{scale}_forward.safetensors'), tensors,
                     {'torch': torch.__version__, 'num_feat': '16', 'num_block': '2', 'res_scale': '2', 'scale': str(scale)})
    print('wrote x%d' % scale)
