import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Command } from 'commander';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import {
  analyzeImportance,
  readImportanceReport,
  writeImportanceReport,
  type EdsrBlocks,
  type ImportanceReport,
} from '../../engine/compress/importance';
import type { EDSRConfig } from '../../engine/zoo/edsr';
import { validateTrainConfig } from '../../engine/train/config';
import { paramCount } from '../../engine/compress/shrink';
import { presetConfig } from '../../engine/zoo/presets';
import { randomWeights } from '../../engine/zoo/random-weights';
import { validateConfig } from '../../engine/zoo/registry';
import { compressCommand, reportFromFlags, targetFromFlags } from '../../scripts/cli/commands/compress';
import { saveSafetensors } from '../../engine/io/checkpoint';
import { studentFields, type DistillFlags } from '../../scripts/cli/commands/distill';
import { configFromFlags, trainConfigFields } from '../../scripts/cli/commands/train';
import { addPruneOptions, PRUNE_DEFAULT_LR, pruneConfigFromFlags, type PruneFlags } from '../../scripts/cli/commands/prune';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'minisr-compress-cli-'));
});
afterAll(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
});

const parsePrune = (...args: string[]) => addPruneOptions(new Command().exitOverride()).parse(args, { from: 'user' }).opts<PruneFlags>();

describe('minisr prune flags', () => {
  it('make a training config: teacher as init, OBProx-SG with lambda and the switch, L1 loss', async () => {
    const f = parsePrune(
      '--teacher',
      'w.pth',
      '--teacher-preset',
      'edsr-baseline',
      '--data',
      'd',
      '--steps',
      '300',
      '--lambda',
      '0.05',
      '--prox-steps',
      '200',
      '--orthant-steps',
      '0',
    );
    const group = parsePrune(
      ...['--teacher', 'w.pth', '--teacher-preset', 'edsr-baseline', '--data', 'd', '--steps', '10'],
      '--lambda',
      '1',
      '--penalty',
      'group',
    );
    expect(validateTrainConfig(await pruneConfigFromFlags(group)).optim).toMatchObject({ type: 'obprox', penalty: 'group' });
    const coupled = parsePrune(
      ...['--teacher', 'w.pth', '--teacher-preset', 'edsr-baseline', '--data', 'd', '--steps', '10', '--lambda', '1'],
      ...['--penalty', 'coupled'],
    );
    expect(validateTrainConfig(await pruneConfigFromFlags(coupled)).optim).toMatchObject({ type: 'obprox', penalty: 'coupled' });
    const c = validateTrainConfig(await pruneConfigFromFlags(f));
    expect(c.model).toEqual(presetConfig('edsr-baseline'));
    expect(c.init).toEqual({ weights: 'w.pth', preset: 'edsr-baseline' });
    expect(c.optim).toEqual({ type: 'obprox', lr: PRUNE_DEFAULT_LR, lambda: 0.05, proxSteps: 200, orthantSteps: 0, penalty: 'l1' });
    expect(c.loss).toEqual({ type: 'l1' });
    expect(c.emaDecay).toBe(0);
    const withLr = validateTrainConfig(
      await pruneConfigFromFlags(
        parsePrune(
          '--teacher',
          'w.pth',
          '--teacher-preset',
          'edsr-baseline',
          '--data',
          'd',
          '--steps',
          '10',
          '--lambda',
          '1',
          '--lr',
          '0.01',
        ),
      ),
    );
    expect(withLr.optim.lr).toBe(0.01);
  });

  it('names what is missing or does not apply', async () => {
    const base = ['--data', 'd', '--steps', '10', '--lambda', '1'];
    await expect(pruneConfigFromFlags(parsePrune(...base))).rejects.toThrow(/needs the teacher: --teacher W.pth --teacher-preset NAME/);
    await expect(pruneConfigFromFlags(parsePrune(...base, '--teacher', 'w.pth'))).rejects.toThrow(/--teacher needs --teacher-preset/);
    await expect(pruneConfigFromFlags(parsePrune(...base, '--teacher', 't.onnx', '--teacher-preset', 'edsr-baseline'))).rejects.toThrow(
      /not an ONNX file/,
    );
    await expect(
      pruneConfigFromFlags(parsePrune(...base, '--teacher', 'w.pth', '--teacher-preset', 'edsr-baseline', '--optimizer', 'adam')),
    ).rejects.toThrow(/--optimizer adam does not apply/);
    expect(() => parsePrune('--lambda', 'x')).toThrow('--lambda must be a number');
    expect(() => parsePrune('--prox-steps', '-2')).toThrow('--prox-steps must be an integer >= 0');
    expect(() => parsePrune('--penalty', 'l2')).toThrow(/--penalty.*l2.*Allowed choices are l1, group, coupled/);
    const noLambda = await pruneConfigFromFlags(
      parsePrune('--data', 'd', '--steps', '10', '--teacher', 'w.pth', '--teacher-preset', 'edsr-baseline'),
    );
    expect(() => validateTrainConfig(noLambda)).toThrow(/optim.lambda \(the penalty weight\) is required/);
  });
});

describe('minisr compress', () => {
  it('writes the compact architecture for a budget as a zoo config that distill --student-config reads', async () => {
    const teacher = presetConfig('edsr-baseline');
    const w = new Map([...randomWeights(teacher, 2)].map(([k, t]) => [k, t.data as Float32Array]));
    const reportPath = path.join(dir, 'importance.json');
    await writeImportanceReport(reportPath, analyzeImportance(teacher, w));
    const out = path.join(dir, 'student.json');
    const log = vi.spyOn(console, 'error').mockImplementation(() => {});
    try {
      await compressCommand()
        .exitOverride()
        .parseAsync(['--report', reportPath, '--params', '49603', '--res-scale', '2', '--out', out], { from: 'user' });
    } finally {
      log.mockRestore();
    }
    expect(JSON.parse(await readFile(out, 'utf8'))).toEqual(presetConfig('edsr-mini'));
    const fields = await studentFields({ studentConfig: out, worker: true, augment: true } as DistillFlags);
    expect(fields.model).toEqual(presetConfig('edsr-mini'));
  });

  it('--scale plans the student at that scale: the budget holds with its upsampler', async () => {
    const out = path.join(dir, 'student-x4.json');
    const log = vi.spyOn(console, 'error').mockImplementation(() => {});
    try {
      await compressCommand()
        .exitOverride()
        .parseAsync(
          ['--report', path.join(dir, 'importance.json'), '--params', '49603', '--res-scale', '2', '--scale', '4', '--out', out],
          {
            from: 'user',
          },
        );
      expect(log.mock.calls[0]?.[0]).toMatch(/^edsr x4: N_c \d+, N_b \d+; [\d,]+ parameters/);
    } finally {
      log.mockRestore();
    }
    const config = JSON.parse(await readFile(out, 'utf8')) as EDSRConfig & { family: 'edsr' };
    expect(config).toMatchObject({ family: 'edsr', upscale: 4, res_scale: 2 });
    expect(paramCount(config)).toBeLessThanOrEqual(49_603);
    expect(config.num_feat * config.num_block).toBeLessThan(16 * 8);
    expect(() => targetFromFlags({ report: 'r', out: 'o', params: 9, scale: 8 })).toThrow('--scale must be 2, 3 or 4, got 8');
  });

  it('analyses a checkpoint directly with --weights and --preset', async () => {
    const cfg = presetConfig('edsr-mini');
    const file = path.join(dir, 'mini.safetensors');
    await saveSafetensors(file, randomWeights(cfg, 3));
    const r = await reportFromFlags({ out: 'o', weights: file, preset: 'edsr-mini' });
    expect(r.config).toEqual(cfg);
    expect(r.channels.aliveCount).toBe(16);
    await expect(reportFromFlags({ out: 'o', weights: file })).rejects.toThrow(/--weights needs --preset/);
    await expect(reportFromFlags({ out: 'o', weights: file, preset: 'edsr-baseline' })).rejects.toThrow(/shape mismatches/);
    await expect(reportFromFlags({ out: 'o', weights: file, report: 'r.json' })).rejects.toThrow(/not both/);
    await expect(reportFromFlags({ out: 'o' })).rejects.toThrow(/give --report/);
  });

  it('needs a target, and names bad flags and files', async () => {
    expect(() => targetFromFlags({ report: 'r', out: 'o' })).toThrow(/give a target/);
    expect(targetFromFlags({ report: 'r', out: 'o', feats: 16, blocks: 8 })).toEqual({ feats: 16, blocks: 8 });
    const cmd = () =>
      compressCommand()
        .exitOverride()
        .configureOutput({ writeErr: () => {} });
    await expect(cmd().parseAsync(['--report', 'r', '--out', 'o', '--params', '0'], { from: 'user' })).rejects.toThrow(
      '--params must be a positive integer',
    );
    await writeFile(path.join(dir, 'notreport.json'), JSON.stringify({ schema: 'x' }));
    await expect(readImportanceReport(path.join(dir, 'notreport.json'))).rejects.toThrow(/not an importance report/);
    const good = JSON.parse(await readFile(path.join(dir, 'importance.json'), 'utf8')) as ImportanceReport;
    for (const [name, edit, msg] of [
      [
        'few-channels',
        (r: ImportanceReport) => (r.channels.alive = r.channels.alive.slice(1)),
        /channels must give alive, l1 and zeroFraction for each of the 64/,
      ],
      [
        'string-gain',
        (r: ImportanceReport) => ((r.structure as EdsrBlocks).blocks[3]!.gain = 'big' as unknown as number),
        /structure.blocks must list 16 entries with a boolean dead and a finite gain/,
      ],
      ['bad-config', (r: ImportanceReport) => ((r.config as EDSRConfig).num_feat = -1), /num_feat must be a positive integer/],
    ] as const) {
      const r = structuredClone(good);
      edit(r);
      await writeFile(path.join(dir, `${name}.json`), JSON.stringify(r));
      await expect(readImportanceReport(path.join(dir, `${name}.json`))).rejects.toThrow(msg);
    }
    const lying = structuredClone(good);
    lying.channels.aliveCount = 1000;
    await writeFile(path.join(dir, 'lying.json'), JSON.stringify(lying));
    expect((await readImportanceReport(path.join(dir, 'lying.json'))).channels.aliveCount).toBe(64);
    await writeFile(path.join(dir, 'torn.json'), '{"schema":');
    await expect(readImportanceReport(path.join(dir, 'torn.json'))).rejects.toThrow(/torn.json: not a readable JSON file/);
  });
});

describe('minisr train --init', () => {
  it('starts from given weights: the config gets init', async () => {
    const c = validateTrainConfig(
      await configFromFlags(
        { worker: true, augment: true, data: 'd', steps: 5 },
        trainConfigFields({ preset: 'edsr-mini', init: 'w.safetensors' }),
      ),
    );
    expect(c.init).toEqual({ weights: 'w.safetensors' });
    expect(
      validateTrainConfig(
        await configFromFlags({ worker: true, augment: true, data: 'd', steps: 5 }, trainConfigFields({ preset: 'edsr-mini' })),
      ).init,
    ).toBeUndefined();
  });
});

describe('minisr distill --student-config', () => {
  it('reads a zoo config, refuses it beside --student, and names a bad file', async () => {
    const file = path.join(dir, 'tiny.json');
    await writeFile(file, JSON.stringify({ family: 'edsr', num_feat: 12, num_block: 3 }));
    const flags = (f: Partial<DistillFlags>) => ({ worker: true, augment: true, ...f }) as DistillFlags;
    expect((await studentFields(flags({ studentConfig: file }))).model).toEqual(
      validateConfig({ family: 'edsr', num_feat: 12, num_block: 3 }),
    );
    expect(await studentFields(flags({ student: 'edsr-mini' }))).toEqual({ preset: 'edsr-mini' });
    await expect(studentFields(flags({ student: 'edsr-mini', studentConfig: file }))).rejects.toThrow(/not both/);
    await writeFile(path.join(dir, 'bad.json'), JSON.stringify({ family: 'edsr', num_feat: 0 }));
    await expect(studentFields(flags({ studentConfig: path.join(dir, 'bad.json') }))).rejects.toThrow(
      /--student-config .*bad.json: edsr: num_feat must be a positive integer/,
    );
    // and the command accepts the flag
    const parsed = new Command().addCommand((await import('../../scripts/cli/commands/distill')).distillCommand());
    expect(parsed.commands[0]!.options.some((o) => o.long === '--student-config')).toBe(true);
  });
});
