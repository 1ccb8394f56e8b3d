import { readFile } from 'node:fs/promises';
import type { Shape } from '../graph/value';
import { loadStateDict, saveSafetensors } from '../io/checkpoint';
import { float32Tensor, type StateDict } from '../io/tensor';
import type { TeacherConfig } from '../train/config';
import { bindWeights, modelParamShapes } from '../zoo/build';
import type { EDSRConfig } from '../zoo/edsr';
import { cardOfOnnxFile, weightsFromOnnx } from '../zoo/infer';
import { presetConfig } from '../zoo/presets';
import { resolveArch, validateConfig, type ModelConfig } from '../zoo/registry';
import { analyzeImportance, readImportanceReport, type ImportanceReport } from './importance';
import { shrink } from './shrink';

/**
 * Weight inheritance: the student starts from the teacher's own weights instead of random ones.
 * The N_c feature channels and N_b residual blocks the importance report ranks highest (stage 2's
 * `keep`) are sliced out of the (pruned) teacher, in their teacher order. The residual branch
 * is x + res_scale * conv2(...): scaling conv2 by res_teacher / res_student keeps each inherited
 * block's contribution what it was in the teacher. EDSR only (SwinIR's LayerNorms read every
 * channel, so a channel slice is not the teacher's function).
 */

export interface Inheritance {
  weights: Map<string, Float32Array>;
  /** Teacher indices the student's channels and blocks came from. */
  channels: number[];
  blocks: number[];
}

function edsr(config: ModelConfig, who: string): ModelConfig & EDSRConfig {
  if (config.family !== 'edsr') throw new TypeError(`weight inheritance needs EDSR models; the ${who} is ${config.family}`);
  return config;
}

/** Rows `rows` (output channels) and columns `cols` (input channels) of a conv weight [out, in, kh, kw]. */
function slice(w: Float32Array, shape: Shape, rows: readonly number[], cols: readonly number[], factor = 1): Float32Array {
  const [, cin, kh, kw] = shape as [number, number, number, number];
  const taps = kh * kw;
  const out = new Float32Array(rows.length * cols.length * taps);
  rows.forEach((r, i) =>
    cols.forEach((c, j) => {
      for (let t = 0; t < taps; t++) out[(i * cols.length + j) * taps + t] = factor * w[(r * cin + c) * taps + t]!;
    }),
  );
  return out;
}

function pick(b: Float32Array, rows: readonly number[], factor = 1): Float32Array {
  return Float32Array.from(rows, (r) => factor * b[r]!);
}

/** Pixel-shuffle conv rows: feature channel c owns rows c*r^2 .. c*r^2 + r^2 - 1. */
function shuffleRows(channels: readonly number[], r: number): number[] {
  return channels.flatMap((c) => Array.from({ length: r * r }, (_, k) => c * r * r + k));
}

/** The student's initial weights sliced from the teacher's (see the file comment). */
export function inheritWeights(
  teacherConfig: ModelConfig,
  teacher: ReadonlyMap<string, Float32Array>,
  studentConfig: ModelConfig,
  report: ImportanceReport,
): Inheritance {
  const t = edsr(validateConfig(teacherConfig), 'teacher');
  const s = edsr(validateConfig(studentConfig), 'student');
  if (t.upscale !== s.upscale) throw new RangeError(`the teacher is x${t.upscale}, the student x${s.upscale}: inheritance needs one scale`);
  if (t.img_range !== s.img_range || t.rgb_mean.some((m, i) => m !== s.rgb_mean[i]))
    throw new RangeError('the teacher and the student normalise their inputs differently (img_range / rgb_mean)');
  if (JSON.stringify(edsr(report.config, 'report')) !== JSON.stringify(t))
    throw new RangeError('the importance report is not of this teacher');
  const { keep } = shrink(report, { feats: s.num_feat, blocks: s.num_block, resScale: s.res_scale });
  const { channels: ch, blocks } = keep;
  const tShapes = modelParamShapes(t);
  const w = (k: string) => {
    const v = teacher.get(k);
    if (!v) throw new RangeError(`teacher weights lack ${k}`);
    return v;
  };
  const all3 = [0, 1, 2];
  const out = new Map<string, Float32Array>();
  const conv = (sk: string, tk: string, rows: number[], cols: number[], factor = 1) => {
    out.set(`${sk}.weight`, slice(w(`${tk}.weight`), tShapes.get(`${tk}.weight`)!, rows, cols, factor));
    out.set(`${sk}.bias`, pick(w(`${tk}.bias`), rows, factor));
  };
  conv('conv_first', 'conv_first', ch, all3);
  blocks.forEach((b, i) => {
    conv(`body.${i}.conv1`, `body.${b}.conv1`, ch, ch);
    conv(`body.${i}.conv2`, `body.${b}.conv2`, ch, ch, t.res_scale / s.res_scale);
  });
  conv('conv_after_body', 'conv_after_body', ch, ch);
  for (const k of modelParamShapes(s).keys()) {
    const m = /^(upsample\.\d+)\.weight$/.exec(k);
    if (m) conv(m[1]!, m[1]!, shuffleRows(ch, s.upscale === 3 ? 3 : 2), ch);
  }
  conv('conv_last', 'conv_last', all3, ch);
  for (const [k, shape] of modelParamShapes(s)) {
    const n = shape.reduce((a, b) => a * b, 1);
    if (out.get(k)?.length !== n) throw new Error(`inheritance: ${k} came out with ${out.get(k)?.length ?? 0} values, expected ${n}`);
  }
  return { weights: out, channels: ch, blocks };
}

/** The teacher's config and weights, as distillation names it (an exported .onnx or a preset checkpoint). */
export async function loadTeacherWeights(
  t: TeacherConfig,
  scale: number,
): Promise<{ config: ModelConfig; weights: Map<string, Float32Array> }> {
  let config: ModelConfig;
  let sd: StateDict;
  if (t.type === 'onnx') {
    const bytes = await readFile(t.path);
    config = (await cardOfOnnxFile(t.path, bytes)).config;
    sd = weightsFromOnnx(bytes, config);
  } else {
    config = presetConfig(t.preset, { scale });
    sd = bindWeights(config, await loadStateDict(t.weights));
  }
  return { config, weights: new Map([...sd].map(([k, v]) => [k, v.data as Float32Array])) };
}

/** The teacher's config without its weights (a preset at its own scale, or an ONNX file's card), or why it has none. */
export async function teacherConfig(t: TeacherConfig): Promise<ModelConfig | Error> {
  try {
    if (t.type === 'preset') return presetConfig(t.preset);
    return (await cardOfOnnxFile(t.path)).config;
  } catch (e) {
    return e as Error;
  }
}

/**
 * Why inheritance cannot start this student from this teacher, or undefined where it can: what
 * decides the default init (inheritance won over random init at equal steps for an EDSR student
 * of an EDSR teacher at one scale; README). Only configs are judged, never weights: the teacher's
 * is what its caller already read (`teacherConfig`, or the model read for its scale), or why it
 * has none, so the teacher is not read again here.
 */
export function inheritanceBlocker(teacher: ModelConfig | Error, student: ModelConfig): string | undefined {
  if (teacher instanceof Error) return `a teacher with a zoo config (${teacher.message})`;
  const s = validateConfig(student);
  if (teacher.family !== 'edsr' || s.family !== 'edsr') return `an EDSR teacher and student; here ${teacher.family} and ${s.family}`;
  if (teacher.upscale !== s.upscale)
    return `the teacher at the student's scale; the teacher is x${teacher.upscale}, the student x${s.upscale}`;
  if (teacher.img_range !== s.img_range || teacher.rgb_mean.some((m, i) => m !== s.rgb_mean[i]))
    return 'the teacher and the student to normalise their inputs alike (img_range / rgb_mean)';
  return undefined;
}

/**
 * `--init inherit`: the student's initial weights inherited from the teacher, written as a
 * safetensors file for the trainer's `init`. The ranking is the stage-1 report when given (the
 * pruned teacher's), else the teacher's own weights analysed here.
 */
export async function writeInheritedInit(
  teacher: TeacherConfig,
  student: ModelConfig,
  file: string,
  reportFile?: string,
): Promise<Inheritance> {
  const t = await loadTeacherWeights(teacher, resolveArch(student).scale);
  const report = reportFile ? await readImportanceReport(reportFile) : analyzeImportance(t.config, t.weights);
  const inh = inheritWeights(t.config, t.weights, student, report);
  const shapes = modelParamShapes(student);
  await saveSafetensors(file, new Map([...inh.weights].map(([k, v]) => [k, float32Tensor(shapes.get(k)!, v)])), {
    'minisr.inherit.channels': inh.channels.join(','),
    'minisr.inherit.blocks': inh.blocks.join(','),
  });
  return inh;
}
