/**
 * Checks the upscaler on a machine with a GPU: which provider `auto` picks (and why it skipped
 * the others), and that tiled output equals a whole-image pass on that provider.
 * `npx tsx scripts/bench/gpu-check.ts [--model <id|file.onnx>]` (default: the shipped default model).
 */
import { parseArgs } from 'node:util';
import { float32Tensor } from '../../engine/io/tensor';
import { SessionCache } from '../../engine/runtime/cache';
import { describeEpReport, openSession } from '../../engine/runtime/select';
import { planarBandSource, planarSink } from '../../engine/upscale/bands';
import { resolveModel } from '../../engine/upscale/model';
import { runPass } from '../../engine/upscale/pass';
import { upscaleImage } from '../../engine/upscale/pipeline';

const { values } = parseArgs({ options: { model: { type: 'string' } } });
const model = await resolveModel(values.model ? { model: values.model } : {});
const W = 300;
const H = 220;
const img = {
  width: W,
  height: H,
  channels: 3,
  data: Float32Array.from({ length: 3 * W * H }, (_, i) => 0.5 + 0.4 * Math.sin(i / 13) * Math.cos(i / 1999)),
};

const { session, report } = await openSession(model.onnxFor(H, W), {
  ep: 'auto',
  probe: { [model.inputName]: float32Tensor([1, 3, H, W]) },
});
console.log(`model ${model.id}; auto picked ${report.used}`);
for (const line of describeEpReport(report)) console.log(`  ${line}`);
const whole = (await session.run({ [model.inputName]: float32Tensor([1, 3, H, W], img.data) }))[model.outputName]!.data as Float32Array;
await session.release();

const sessions = new SessionCache(4);
for (const tile of [96, 128]) {
  const sink = planarSink(W * model.scale, H * model.scale, false);
  await runPass(planarBandSource(img), sink, { model, sessions, ep: report.used, tile, overlap: model.receptiveRadius ?? 16 });
  let max = 0;
  for (let i = 0; i < whole.length; i++) max = Math.max(max, Math.abs(whole[i]! - sink.rgb.data[i]!));
  console.log(`tile ${tile}, overlap ${model.receptiveRadius ?? 16} on ${report.used}: max |tiled - whole| = ${max.toExponential(2)}`);
}

for (const ep of [report.used, 'cpu'] as const) {
  const big = { width: 1024, height: 1024, channels: 3, data: new Float32Array(3 * 1024 * 1024).fill(0.5) };
  await upscaleImage(big, undefined, { model, ep, tile: ep === 'cpu' ? 256 : 512, sessions }); // warm: session creation
  const t = performance.now();
  await upscaleImage(big, undefined, { model, ep, tile: ep === 'cpu' ? 256 : 512, sessions });
  const s = (performance.now() - t) / 1000;
  console.log(`1024x1024 x2 end to end on ${ep}: ${s.toFixed(2)} s, ${(1.048576 / s).toFixed(2)} MP/s`);
  if (report.used === 'cpu') break;
}
await sessions.clear();
