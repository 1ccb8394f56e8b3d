import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Command } from 'commander';
import { afterAll, describe, expect, it } from 'vitest';
import { validateTrainConfig } from '../../engine/train/config';
import { addTrainOptions, configFromFlags, requestFromFlags, trainConfigFields, type TrainFlags } from '../../scripts/cli/commands/train';

let dir: string;
afterAll(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
});

const flags = (f: Partial<TrainFlags>): TrainFlags => ({ worker: true, augment: true, ...f });

describe('minisr train flags', () => {
  it('map onto config fields, over a --config file', async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'minisr-cli-'));
    const file = path.join(dir, 'c.json');
    await writeFile(
      file,
      JSON.stringify({ preset: 'edsr-mini', data: { dir: 'x' }, steps: 10, optim: { lr: 1e-4, weightDecay: 0.01 }, seed: 3 }),
    );
    await writeFile(path.join(dir, 'a_HR.png'), '');
    await writeFile(path.join(dir, 'a_LR.png'), '');
    const raw = await configFromFlags(
      flags({
        config: file,
        data: dir,
        steps: 20,
        lr: 2e-3,
        schedule: 'multistep',
        milestones: '5,15',
        gamma: 0.1,
        worker: false,
        val: dir,
        valInterval: 7,
      }),
      { loss: { type: 'charbonnier' } },
    );
    const c = validateTrainConfig(raw);
    expect(c.steps).toBe(20);
    expect(c.seed).toBe(3);
    expect(c.optim).toMatchObject({ lr: 2e-3, weightDecay: 0.01 });
    expect(c.schedule).toEqual({ type: 'multistep', milestones: [5, 15], gamma: 0.1 });
    expect(c.data).toEqual({ dir, kind: 'paired' }); // NAME_LR files: a benchmark-layout folder
    expect(c.val).toEqual({ dir, interval: 7 });
    expect(c.worker).toBe(false);
    expect(c.loss).toEqual({ type: 'charbonnier', eps: 1e-3 });
  });

  it('--scale builds the preset at that scale; --init-partial marks the init partial', async () => {
    const c = validateTrainConfig(
      await configFromFlags(
        flags({ data: dir, steps: 5, scale: 4 }),
        trainConfigFields({ preset: 'edsr-baseline', init: 'x2.pth', initPartial: true }),
      ),
    );
    expect([c.preset, c.model.family === 'edsr' && c.model.upscale, c.model.family === 'edsr' && c.model.num_feat]).toEqual([
      'edsr-baseline',
      4,
      64,
    ]);
    expect(c.init).toEqual({ weights: 'x2.pth', partial: true });
    await expect(configFromFlags(flags({ data: dir, steps: 5, scale: 4 }), { model: { family: 'edsr' } })).rejects.toThrow(
      /--scale applies to a preset/,
    );
    expect(() => trainConfigFields({ preset: 'edsr-mini', initPartial: true })).toThrow(/--init-partial needs --init/);
  });

  it('--degrade-clean-fraction mixes clean samples into --degrade photo; --max-seconds goes on the request', async () => {
    const c = validateTrainConfig(
      await configFromFlags(flags({ data: dir, steps: 5, degrade: 'photo', degradeCleanFraction: 0.5 }), { preset: 'edsr-mini' }),
    );
    expect(c.degrade).toEqual({ jpeg: [50, 95], noise: 5, blur: 1, clean: 0.5 });
    await expect(configFromFlags(flags({ data: dir, degradeCleanFraction: 0.5 }), { preset: 'edsr-mini' })).rejects.toThrow(
      /--degrade-clean-fraction needs --degrade/,
    );
    expect(requestFromFlags(flags({ out: 'runs/y', maxSeconds: 190 }), {})).toEqual({ outDir: 'runs/y', config: {}, maxSeconds: 190 });
    expect(requestFromFlags(flags({ resume: 'runs/y', maxSeconds: 60 }), undefined)).toEqual({
      outDir: 'runs/y',
      resume: true,
      maxSeconds: 60,
    });
  });

  it('needs --out unless resuming, and names a broken --config', async () => {
    expect(() => requestFromFlags(flags({}), {})).toThrow(/--out/);
    expect(requestFromFlags(flags({ resume: 'runs/x', steps: 9 }), undefined)).toEqual({ outDir: 'runs/x', resume: true, steps: 9 });
    await writeFile(path.join(dir, 'bad.json'), '{');
    await expect(configFromFlags(flags({ config: path.join(dir, 'bad.json') }), {})).rejects.toThrow(/--config .*bad.json/);
  });

  it('refuses a --config that is valid JSON but not an object, naming the file', async () => {
    for (const [name, text] of [
      ['null.json', 'null'],
      ['list.json', '[1]'],
      ['num.json', '3'],
    ] as const) {
      await writeFile(path.join(dir, name), text);
      await expect(configFromFlags(flags({ config: path.join(dir, name), steps: 5, data: dir }), {})).rejects.toThrow(
        new RegExp(`--config .*${name}: must hold a JSON object`),
      );
    }
  });

  it('parses numeric flags and names the flag in a bad value', () => {
    const parse = (...args: string[]) => addTrainOptions(new Command().exitOverride()).parse(args, { from: 'user' }).opts<TrainFlags>();
    expect(parse('--steps', '12', '--lr', '2e-3', '--warmup', '0', '--no-worker')).toMatchObject({
      steps: 12,
      lr: 2e-3,
      warmup: 0,
      worker: false,
      augment: true,
    });
    expect(() => parse('--steps', '0')).toThrow('--steps must be a positive integer, got "0"');
    expect(() => parse('--warmup', '-1')).toThrow('--warmup must be an integer >= 0');
    expect(() => parse('--ema-decay', 'x')).toThrow('--ema-decay must be a number');
    expect(() => parse('--checkpoint-interval', '1.5')).toThrow('--checkpoint-interval must be a positive integer');
  });
});
