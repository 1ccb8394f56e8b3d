import { describe, expect, it } from 'vitest';
import { interleave, median, medianWall } from '../../scripts/bench/timing';

describe('bench timing helper', () => {
  it('takes the middle value, or the mean of the two middle ones', () => {
    expect(median([5, 1, 3])).toBe(3);
    expect(median([4, 1, 3, 2])).toBe(2.5);
    expect(() => median([])).toThrow(/no values/);
  });

  it('runs each variant once per round, in turn, reversing the order every other round when asked', async () => {
    const calls: string[] = [];
    const variant = (k: 'a' | 'b') => [k, async () => void calls.push(k)] as const;
    const times = await interleave([variant('a'), variant('b')], 3, { alternate: true });
    expect(calls).toEqual(['a', 'b', 'b', 'a', 'a', 'b']);
    expect(times.get('a')).toHaveLength(3);
    expect(medianWall(times.get('b')!)).toBeGreaterThanOrEqual(0);
    calls.length = 0;
    await interleave([variant('a'), variant('b')], 2);
    expect(calls).toEqual(['a', 'b', 'a', 'b']);
  });
});
