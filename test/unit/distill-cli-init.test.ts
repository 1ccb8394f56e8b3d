import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { saveSafetensors } from '../../engine/io/checkpoint';
import { presetConfig } from '../../engine/zoo/presets';
import { randomWeights } from '../../engine/zoo/random-weights';
import { distillConfigFromFlags, type DistillFlags } from '../../scripts/cli/commands/distill';

/**
 * `minisr distill`'s init: inherited from the teacher by default where inheritance applies (an
 * EDSR teacher and student at one scale), random weights otherwise, said in one line; `--init
 * random` opts out. The teacher is a *random-weight* EDSRmini checkpoint.
 */
describe('minisr distill --init default', () => {
  let dir: string;
  let teacher: string;
  const said: string[] = [];
  beforeAll(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'minisr-distill-init-'));
    teacher = path.join(dir, 'teacher.safetensors');
    await saveSafetensors(teacher, randomWeights(presetConfig('edsr-mini'), 3, 0.05));
  });
  afterAll(() => rm(dir, { recursive: true, force: true }));
  afterEach(() => {
    said.length = 0;
    vi.restoreAllMocks();
  });
  const config = (out: string, f: Partial<DistillFlags> = {}) => {
    vi.spyOn(console, 'error').mockImplementation((line: string) => void said.push(line));
    return distillConfigFromFlags({
      teacher,
      teacherPreset: 'edsr-mini',
      student: 'edsr-mini',
      data: path.join(dir, 'data'),
      steps: 10,
      out: path.join(dir, out),
      ...f,
    } as DistillFlags);
  };

  it('inherits at the teacher scale, and records it in the config', async () => {
    const c = await config('inherit');
    const file = path.join(dir, 'inherit', 'inherit.safetensors');
    expect(c?.init).toEqual({ weights: file });
    expect(existsSync(file)).toBe(true);
    expect(said).toEqual([expect.stringMatching(/^inherited from the teacher: channels [\d,]+; blocks [\d,]+$/)]);
  });

  it('--init random opts out: no init, no inherited file', async () => {
    const c = await config('random', { init: 'random' });
    expect(c).not.toHaveProperty('init');
    expect(existsSync(path.join(dir, 'random', 'inherit.safetensors'))).toBe(false);
    expect(said).toEqual([]);
    await expect(config('random', { init: 'random', report: 'importance.json' })).rejects.toThrow('--report applies to --init inherit');
  });

  it('falls back to random init, saying why, across scales and for a SwinIR student; explicit inherit there is refused', async () => {
    expect(await config('x4', { scale: 4 })).not.toHaveProperty('init');
    expect(said).toEqual(["random init (inheritance needs the teacher at the student's scale; the teacher is x2, the student x4)"]);
    expect(existsSync(path.join(dir, 'x4', 'inherit.safetensors'))).toBe(false);
    said.length = 0;
    expect(await config('swinir', { student: 'swinir-mini' })).not.toHaveProperty('init');
    expect(said).toEqual(['random init (inheritance needs an EDSR teacher and student; here edsr and swinir)']);
    await expect(config('x4-inherit', { scale: 4, init: 'inherit' })).rejects.toThrow(
      "--init inherit needs the teacher at the student's scale; the teacher is x2, the student x4",
    );
    await expect(config('x4-report', { scale: 4, report: 'importance.json' })).rejects.toThrow(
      /--report applies to inheritance, which needs the teacher at the student's scale/,
    );
  });

  it('--init <file> is kept as given; a resumed run does not decide its init again', async () => {
    expect((await config('file', { init: 'w.safetensors' }))?.init).toEqual({ weights: 'w.safetensors' });
    expect(await config('resumed', { resume: path.join(dir, 'inherit') })).toBeUndefined();
    await expect(config('resumed', { resume: path.join(dir, 'inherit'), init: 'random' })).rejects.toThrow(
      '--init and --report set a new run; a resumed run keeps its own start',
    );
  });
});
