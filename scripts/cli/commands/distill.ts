import { Command } from 'commander';
import { addTrainOptions, configFromFlags, requestFromFlags, runFromCli, type TrainFlags } from './train';

interface DistillFlags extends TrainFlags {
  teacher?: string;
  teacherPreset?: string;
  student?: string;
  hrWeight?: number;
}

/** `minisr distill`: trains a compact student against a teacher's cached outputs (the paper's MultiLap + 0.1 L1 loss). */
export function distillCommand(): Command {
  return addTrainOptions(
    new Command('distill')
      .description("distil a teacher into a compact student: loss MultiLap(student, teacher) + hr-weight * L1(student, HR); the teacher's outputs are computed once and cached")
      .option('--teacher <file>', 'teacher: an .onnx model, or a .pth/.safetensors checkpoint with --teacher-preset')
      .option('--teacher-preset <name>', 'architecture of a checkpoint teacher (e.g. edsr-baseline)')
      .option('--student <name>', 'student preset (e.g. edsr-mini)')
      .option('--hr-weight <x>', 'weight of the L1 term against HR', (v) => Number(v)),
  ).action(async (f: DistillFlags) => {
    let config: Record<string, unknown> | undefined;
    if (!f.resume) {
      const extra: Record<string, unknown> = { preset: f.student, loss: { type: 'distill', ...(f.hrWeight !== undefined ? { hrWeight: f.hrWeight } : {}) } };
      if (f.teacher) {
        const isOnnx = /\.onnx$/i.test(f.teacher);
        if (!isOnnx && !f.teacherPreset) throw new TypeError('--teacher with a checkpoint needs --teacher-preset (e.g. edsr-baseline)');
        extra.teacher = isOnnx ? { type: 'onnx', path: f.teacher } : { type: 'preset', preset: f.teacherPreset, weights: f.teacher };
      }
      config = await configFromFlags(f, extra);
    }
    await runFromCli(requestFromFlags(f, config), f.json === true);
  });
}
