import type { Graph } from '../graph/graph';
import type { Value } from '../graph/value';

/** Building blocks the convolutional families share, each matching its PyTorch module exactly. */

/** A 3x3 "same" conv whose weight and bias are parameters named `${key}.weight` / `${key}.bias`. */
export function conv3x3(g: Graph, x: Value, key: string, cin: number, cout: number): Value {
  const w = g.param(`${key}.weight`, [cout, cin, 3, 3]);
  const b = g.param(`${key}.bias`, [cout]);
  return g.conv(x, w, b);
}

export function leakyRelu(g: Graph, x: Value, slope: number): Value {
  return g.op1('LeakyRelu', [x], { alpha: slope });
}

/** nn.PReLU(channels) with its slopes as parameter `${key}.weight`: relu(x) - a * relu(-x). */
export function prelu(g: Graph, x: Value, key: string, channels: number): Value {
  const a = g.reshape(g.param(`${key}.weight`, [channels]), [1, channels, 1, 1]);
  return g.sub(g.relu(x), g.mul(a, g.relu(g.neg(x))));
}

/**
 * F.interpolate(x, scale_factor=s, mode='nearest'): s*s copies of x side by side in channels,
 * which DCR DepthToSpace interleaves into s x s blocks. No size-dependent constant, so graphs
 * using it still export with symbolic H and W.
 */
export function nearestUpsample(g: Graph, x: Value, s: number): Value {
  if (s === 1) return x;
  return g.op1('DepthToSpace', [g.concat(new Array<Value>(s * s).fill(x), 1)], { blocksize: s, mode: 'DCR' });
}

/**
 * F.pixel_unshuffle(x, r): channel c*r*r + i*r + j holds offset (i, j) of channel c. ONNX
 * SpaceToDepth orders the same values (i*r + j)*C + c, so a constant Gather reorders them.
 */
export function pixelUnshuffle(g: Graph, x: Value, r: number): Value {
  if (r === 1) return x;
  const c = x.shape[1]!;
  const order = Array.from({ length: c * r * r }, (_, o) => (o % (r * r)) * c + Math.floor(o / (r * r)));
  return g.op1('Gather', [g.op1('SpaceToDepth', [x], { blocksize: r }), g.ints(order)], { axis: 1 });
}
