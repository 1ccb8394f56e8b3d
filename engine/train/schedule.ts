/**
 * Learning-rate schedules as pure functions of the step index (0-based, the step about to be
 * taken), so a resumed run recomputes the rate instead of restoring scheduler state.
 */

export type ScheduleConfig =
  | { type: 'constant' }
  /** Cosine from the base rate down to etaMin over the steps after warm-up. */
  | { type: 'cosine'; etaMin: number }
  /** The base rate times gamma for every milestone (a step index) already reached. */
  | { type: 'multistep'; milestones: readonly number[]; gamma: number };

export interface LrPlan {
  baseLr: number;
  totalSteps: number;
  /** Steps of linear warm-up from baseLr / warmup to baseLr. */
  warmup: number;
  schedule: ScheduleConfig;
}

export function learningRate(plan: LrPlan, step: number): number {
  const { baseLr, totalSteps, warmup, schedule } = plan;
  if (step < warmup) return (baseLr * (step + 1)) / warmup;
  switch (schedule.type) {
    case 'constant':
      return baseLr;
    case 'cosine': {
      const span = Math.max(1, totalSteps - warmup);
      const t = Math.min(1, (step - warmup) / span);
      return schedule.etaMin + 0.5 * (baseLr - schedule.etaMin) * (1 + Math.cos(Math.PI * t));
    }
    case 'multistep': {
      const passed = schedule.milestones.filter((m) => step >= m).length;
      return baseLr * schedule.gamma ** passed;
    }
  }
}

export function validateSchedule(s: unknown): ScheduleConfig {
  if (typeof s !== 'object' || s === null) throw new TypeError(`schedule must be an object, got ${JSON.stringify(s)}`);
  const o = s as Record<string, unknown>;
  switch (o.type) {
    case 'constant':
      return { type: 'constant' };
    case 'cosine': {
      const etaMin = o.etaMin ?? 0;
      if (typeof etaMin !== 'number' || !(etaMin >= 0)) throw new RangeError(`schedule.etaMin must be a number >= 0, got ${show(etaMin)}`);
      return { type: 'cosine', etaMin };
    }
    case 'multistep': {
      const { milestones, gamma = 0.5 } = o;
      if (!Array.isArray(milestones) || milestones.some((m) => !Number.isInteger(m) || m < 0)) {
        throw new TypeError(`schedule.milestones must be a list of step indices, got ${JSON.stringify(milestones)}`);
      }
      if (typeof gamma !== 'number' || !(gamma > 0)) throw new RangeError(`schedule.gamma must be positive, got ${show(gamma)}`);
      return { type: 'multistep', milestones: [...(milestones as number[])].sort((a, b) => a - b), gamma };
    }
    default:
      throw new TypeError(`schedule.type must be constant, cosine or multistep, got ${JSON.stringify(o.type)}`);
  }
}

/** JSON for objects and strings (String() would print [object Object]); String for numbers so NaN stays NaN. */
function show(v: unknown): string {
  return typeof v === 'number' ? String(v) : JSON.stringify(v);
}
