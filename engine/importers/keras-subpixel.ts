import { float32Tensor, type HostTensor } from '../io/tensor';
import type { KerasLayer, KerasModel } from './keras-model';

/**
 * Nearest upsampling by s followed by a stride-1 'same' conv equals one conv at the low
 * resolution with s*s times the output channels, then DepthToSpace(s, DCR): output phase (i, j)
 * of the conv only ever reads low-resolution pixels at offsets floor((i + d - pad) / s), so its
 * taps can be summed into a small low-resolution kernel. Exact up to float rounding of those sums,
 * and the upsampled tensor (s*s times the channels) is never made: at x4 the copies and layout
 * changes around it cost ORT more than all the model's convolutions.
 */

export interface SubpixelConv {
  /** The UpSampling2D layer the conv reads (skipped in the graph). */
  readonly upsample: KerasLayer;
  readonly scale: number;
}

/** Conv layers that read a nearest UpSampling2D no other layer reads, by conv name. */
export function subpixelConvs(model: KerasModel): Map<string, SubpixelConv> {
  const readers = new Map<string, KerasLayer[]>();
  for (const l of model.layers) for (const i of l.inbound) readers.set(i, [...(readers.get(i) ?? []), l]);
  const out = new Map<string, SubpixelConv>();
  for (const up of model.layers) {
    if (up.className !== 'UpSampling2D' || model.outputs.includes(up.name)) continue;
    const size = up.config.size;
    const s = Array.isArray(size) && size[0] === size[1] && Number.isInteger(size[0]) ? (size[0] as number) : undefined;
    if (
      !s ||
      s < 2 ||
      (up.config.interpolation ?? 'nearest') !== 'nearest' ||
      (up.config.data_format ?? 'channels_last') !== 'channels_last'
    )
      continue;
    const r = readers.get(up.name) ?? [];
    const conv = r[0];
    if (r.length !== 1 || conv?.className !== 'Conv2D' || conv.inbound.length !== 1) continue;
    const c = conv.config;
    const ones = (v: unknown) => v === undefined || (Array.isArray(v) && v.every((d) => d === 1)) || v === 1;
    if (c.padding !== 'same' || !ones(c.strides) || !ones(c.dilation_rate) || (c.groups ?? 1) !== 1) continue;
    out.set(conv.name, { upsample: up, scale: s });
  }
  return out;
}

/** Low-resolution kernel extent and pads (begin, end) for a 'same' kernel of `k` after upsampling by `s`. */
export function subpixelGeometry(k: number, s: number): { size: number; first: number; pads: [number, number] } {
  const p = Math.floor((k - 1) / 2);
  const first = Math.floor(-p / s);
  const last = Math.floor((s - 1 + k - 1 - p) / s);
  return { size: last - first + 1, first, pads: [-first, last] };
}

/** The low-resolution conv's weight [s*s*cout, cin, KH', KW'] (DCR channel order) and bias from an OIHW conv. */
export function subpixelWeights(w: HostTensor, bias: HostTensor | undefined, s: number): { weight: HostTensor; bias?: HostTensor } {
  const [cout, cin, kh, kw] = w.shape as [number, number, number, number];
  const gy = subpixelGeometry(kh, s);
  const gx = subpixelGeometry(kw, s);
  const [py, px] = [Math.floor((kh - 1) / 2), Math.floor((kw - 1) / 2)];
  const src = w.data as Float32Array;
  const dst = new Float32Array(s * s * cout * cin * gy.size * gx.size);
  for (let i = 0; i < s; i++)
    for (let j = 0; j < s; j++)
      for (let o = 0; o < cout; o++)
        for (let c = 0; c < cin; c++)
          for (let dy = 0; dy < kh; dy++)
            for (let dx = 0; dx < kw; dx++) {
              const oy = Math.floor((i + dy - py) / s) - gy.first;
              const ox = Math.floor((j + dx - px) / s) - gx.first;
              const to = ((((i * s + j) * cout + o) * cin + c) * gy.size + oy) * gx.size + ox;
              dst[to] = dst[to]! + src[((o * cin + c) * kh + dy) * kw + dx]!;
            }
  const weight = float32Tensor([s * s * cout, cin, gy.size, gx.size], dst);
  if (!bias) return { weight };
  const b = bias.data as Float32Array;
  return {
    weight,
    bias: float32Tensor(
      [s * s * cout],
      Float32Array.from({ length: s * s * cout }, (_, k) => b[k % cout]!),
    ),
  };
}
