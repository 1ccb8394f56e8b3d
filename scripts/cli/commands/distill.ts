import { mkdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { inheritanceBlocker, teacherConfig, writeInheritedInit } from '../../../engine/compress/inherit';
import { validateTrainConfig } from '../../../engine/train/config';
import { Command, Option } from 'commander';
import { validateConfig } from '../../../engine/zoo/registry';
import { LEVEL_WEIGHTS, type LevelWeights } from '../../../engine/train/losses';
import { runOnQueue } from './queued-run';
import { addTrainOptions, configFromFlags, requestFromFlags, runFromCli, type TrainFlags } from './train';

export interface DistillFlags extends TrainFlags {
  teacher?: string;
  teacherPreset?: string;
  student?: string;
  studentConfig?: string;
  hrWeight?: number;
  levelWeights?: LevelWeights;
  init?: string;
  report?: string;
  queue?: string;
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

/** Writes `<out>/inherit.safetensors` (the student sliced out of the teacher) and returns its path. */
async function inheritInto(raw: Record<string, unknown>, f: DistillFlags): Promise<string> {
  if (!f.out) throw new TypeError('--out <dir> is required');
  const cfg = validateTrainConfig(raw);
  await mkdir(f.out, { recursive: true });
  const file = path.join(f.out, 'inherit.safetensors');
  const inh = await writeInheritedInit(cfg.teacher!, cfg.model, file, f.report);
  if (!f.json) console.error(`inherited from the teacher: channels ${inh.channels.join(',')}; blocks ${inh.blocks.join(',')}`);
  return file;
}

/**
 * The student's start: `--init` as given, else inheritance where it applies (it won over random
 * init at equal steps; README) and random weights otherwise, said in one line either way.
 */
async function initFor(config: Record<string, unknown>, f: DistillFlags): Promise<Record<string, unknown> | undefined> {
  if (f.init && f.init !== 'inherit') {
    if (f.report) throw new TypeError('--report applies to --init inherit');
    return f.init === 'random' ? undefined : { weights: f.init };
  }
  if (!f.init && config.init !== undefined) return config.init as Record<string, unknown>; // a --config file's own init
  const cfg = validateTrainConfig(config);
  const blocker = cfg.teacher ? inheritanceBlocker(await teacherConfig(cfg.teacher), cfg.model) : 'a teacher';
  if (blocker && f.init === 'inherit') throw new TypeError(`--init inherit needs ${blocker}`);
  if (blocker && f.report) throw new TypeError(`--report applies to inheritance, which needs ${blocker}`);
  if (!blocker) return { weights: await inheritInto(config, f) };
  if (!f.json) console.error(`random init (inheritance needs ${blocker})`);
  return undefined;
}

/** A new run's raw config, the student's start decided; undefined when resuming (the run's own config, init included). */
export async function distillConfigFromFlags(f: DistillFlags): Promise<Record<string, unknown> | undefined> {
  if (f.resume) {
    if (f.init || f.report) throw new TypeError('--init and --report set a new run; a resumed run keeps its own start');
    return undefined;
  }
  const config = await configFromFlags(f, { ...distillConfigFields(f), ...(await studentFields(f)) });
  const init = await initFor(config, f);
  if (init) config.init = init;
  else delete config.init;
  return config;
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
      .option(
        '--init <inherit|random|file>',
        "student's start: inherit (the teacher's top-ranked channels and blocks, sliced; default where the teacher and student are EDSR at one scale), random (default otherwise), or a .pth/.safetensors of the student",
      )
      .option(
        '--report <file>',
        "with inheritance (--init inherit, or its default): the stage-1 importance.json ranking the teacher's channels and blocks",
      )
      .option('--hr-weight <x>', 'weight of the L1 term against HR', (v) => Number(v))
      .addOption(
        new Option(
          '--level-weights <name>',
          'MultiLap pyramid level weights: paper (2^i, coarse levels dominate) or inverse (2^-i)',
        ).choices(LEVEL_WEIGHTS),
      )
      .option('--queue <redis-url>', 'run it on a `minisr worker` through Redis (the run folder and data on storage every worker sees)'),
  ).action(async (f: DistillFlags) => {
    const config = await distillConfigFromFlags(f);
    if (f.queue) return void (await runOnQueue(f.queue, f, config));
    await runFromCli(requestFromFlags(f, config), f.json === true);
  });
}
