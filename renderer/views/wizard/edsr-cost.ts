/**
 * EDSR's parameter and FLOP counts in closed form (BasicSR layout), so the wizard's sliders show
 * the resulting model's size live without asking the engine. Same conventions as
 * engine/zoo/count.ts: params = conv weights + biases; FLOPs = 2 x conv multiply-accumulates.
 *
 * Layers, per LR pixel unless noted: conv_first 3→F, `blocks` x (2 convs F→F), conv_after_body
 * F→F, one conv F→4F + pixel shuffle per x2 stage (the later ones at the enlarged size) or one
 * conv F→9F for x3, and conv_last F→3 at the output size. All convs are 3x3.
 */
export interface EdsrShape {
  readonly feats: number;
  readonly blocks: number;
  /** 2, 3 or 4 (x4 = two x2 stages). */
  readonly scale: 2 | 3 | 4;
}

export interface EdsrCost {
  readonly params: number;
  /** Conv layers in the network. */
  readonly layers: number;
  readonly flopsPerMegapixel: number;
  /** The paper's convention: one 640x360 input. */
  readonly flops640x360: number;
}

const conv = (cin: number, cout: number) => ({ params: 9 * cin * cout + cout, macs: 9 * cin * cout });

export function edsrCost({ feats: f, blocks, scale }: EdsrShape): EdsrCost {
  const stages = scale === 4 ? 2 : 1;
  const widen = scale === 3 ? 9 : 4;
  const lr = [conv(3, f), ...Array.from({ length: 2 * blocks + 1 }, () => conv(f, f))];
  let params = lr.reduce((s, c) => s + c.params, 0);
  let macsPerPixel = lr.reduce((s, c) => s + c.macs, 0);
  for (let i = 0; i < stages; i++) {
    const up = conv(f, widen * f);
    params += up.params;
    macsPerPixel += up.macs * 4 ** i;
  }
  const last = conv(f, 3);
  params += last.params;
  macsPerPixel += last.macs * scale * scale;
  const flopsPerPixel = 2 * macsPerPixel;
  return {
    params,
    layers: lr.length + stages + 1,
    flopsPerMegapixel: flopsPerPixel * 1e6,
    flops640x360: flopsPerPixel * 640 * 360,
  };
}
