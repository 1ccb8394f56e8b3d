import { readFile } from 'node:fs/promises';
import { Command, Option } from 'commander';
import { validateConfig } from '../../../engine/zoo/registry';
import { LEVEL_WEIGHTS, type LevelWeights } from '../../../engine/train/losses';
import { addTrainOptions, configFromFlags, requestFromFlags, runFromCli, type TrainFlags } from './train';

export interface DistillFlags extends TrainFlags {
  teacher?: string;
  teacherPreset?: string;
  student?: string;
  studentConfig?: string;
  hrWeight?: number;
  levelWeights?: LevelWeights;
}

/** The config fields `minisr distill` sets beyond the shared training flags. */
export function distillConfigFields(f: DistillFlags): Record<string, unknown> {
  const loss = {
    type: 'distill',
    ...(f.hrWeight !== undefined ? { hrWeight: f.hrWeight } : {}),
    ...(f.levelWeights ? { levelWeights: f.levelWeights } : {}),
  };
  const fields: Record<string, unknown> = { preset: f.student, loss };
  if (f.teacher) {
    const isOnnx = /\.onnx$/i.test(f.teacher);
    if (!isOnnx && !f.teacherPreset) throw new TypeError('--teacher with a checkpoint needs --teacher-preset (e.g. edsr-baseline)');
    fields.teacher = isOnnx ? { type: 'onnx', path: f.teacher } : { type: 'preset', preset: f.teacherPreset, weights: f.teacher };
  }
  return fields;
}

/** The student's architecture: a preset (`--student`) or a zoo config file (`--student-config`, e.g. from minisr compress). */
export async function studentFields(f: DistillFlags): Promise<Record<string, unknown>> {
  if (f.student && f.studentConfig) throw new TypeError('give --student or --student-config, not both');
  if (!f.studentConfig) return { preset: f.student };
  let raw: unknown;
  try {
    raw = JSON.parse(await readFile(f.studentConfig, 'utf8'));
  } catch (e) {
    throw new Error(`--student-config ${f.studentConfig}: ${(e as Error).message}`, { cause: e });
  }
  try {
    return { preset: undefined, model: validateConfig(raw) };
  } catch (e) {
    throw new Error(`--student-config ${f.studentConfig}: ${(e as Error).message}`, { cause: e });
  }
}

/** `minisr distill`: trains a compact student against a teacher's cached outputs (the paper's MultiLap + 0.1 L1 loss). */
export function distillCommand(): Command {
  return addTrainOptions(
    new Command('distill')
      .description(
        "distil a teacher into a compact student: loss MultiLap(student, teacher) + hr-weight * L1(student, HR); the teacher's outputs are computed once and cached",
      )
      .option('--teacher <file>', 'teacher: an .onnx model, or a .pth/.safetensors checkpoint with --teacher-preset')
      .option('--teacher-preset <name>', 'architecture of a checkpoint teacher (e.g. edsr-baseline)')
      .option('--student <name>', 'student preset (e.g. edsr-mini)')
      .option('--student-config <file>', 'student architecture as a zoo config JSON (what minisr compress writes)')
      .option('--hr-weight <x>', 'weight of the L1 term against HR', (v) => Number(v))
      .addOption(
        new Option(
          '--level-weights <name>',
          'MultiLap pyramid level weights: paper (2^i, coarse levels dominate) or inverse (2^-i)',
        ).choices(LEVEL_WEIGHTS),
      ),
  ).action(async (f: DistillFlags) => {
    const config = f.resume ? undefined : await configFromFlags(f, { ...distillConfigFields(f), ...(await studentFields(f)) });
    await runFromCli(requestFromFlags(f, config), f.json === true);
  });
}
