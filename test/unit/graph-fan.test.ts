import { describe, expect, it } from 'vitest';
import { gradients } from '../../engine/graph/autodiff';
import { Graph, MAX_FAN_IO } from '../../engine/graph/graph';
import { float32Tensor } from '../../engine/io/tensor';
import { randomData, runGraph } from './autodiff-helpers';

/**
 * Concat/Split with many inputs/outputs become trees of at most MAX_FAN_IO (WebGPU binds at most
 * 16 storage buffers per shader; a 32-way Split of SwinIR's window chunks failed there), and
 * sign() is built from ops every provider has. Results must not change.
 */

const widest = (g: Graph, op: string) =>
  Math.max(0, ...g.nodes.filter((n) => n.op === op).map((n) => (op === 'Concat' ? n.inputs.length : n.outputs.length)));

describe('wide Concat and Split', () => {
  const sizes = Array.from({ length: 40 }, (_, i) => 1 + (i % 3)); // 40 pieces
  const rows = sizes.reduce((a, b) => a + b, 0);

  it('Concat of 40 values is a tree of narrow Concats with the same result', async () => {
    const g = new Graph('fan');
    const xs = sizes.map((s, i) => g.input(`x${i}`, [s, 3]));
    g.output(g.concat(xs, 0), 'y');
    expect(widest(g, 'Concat')).toBeLessThanOrEqual(MAX_FAN_IO);
    const feeds = Object.fromEntries(sizes.map((s, i) => [`x${i}`, float32Tensor([s, 3], randomData(s * 3, i + 1))]));
    const y = (await runGraph(g, feeds)).y!;
    expect(y.shape).toEqual([rows, 3]);
    const expected = sizes.flatMap((_, i) => [...(feeds[`x${i}`]!.data as Float32Array)]);
    expect([...(y.data as Float32Array)]).toEqual(expected);
  });

  it('Split into 40 pieces is a tree of narrow Splits, and its gradient is the input layout again', async () => {
    const g = new Graph('fan');
    const x = g.input('x', [rows, 3]);
    const parts = g.split(x, sizes, 0);
    expect(parts.map((p) => p.shape[0])).toEqual(sizes);
    expect(widest(g, 'Split')).toBeLessThanOrEqual(MAX_FAN_IO);
    parts.forEach((p, i) => g.output(p, `p${i}`));
    // loss = sum_i (i + 1) * sum(part_i): d loss / dx on the rows of piece i is i + 1.
    let loss = g.reduceSum(parts[0]!, undefined, false);
    for (let i = 1; i < parts.length; i++) loss = g.add(loss, g.mul(g.reduceSum(parts[i]!, undefined, false), g.scalar(i + 1)));
    const dx = gradients(g, loss, [x]).get(x)!;
    g.output(dx, 'dx');
    expect(widest(g, 'Concat')).toBeLessThanOrEqual(MAX_FAN_IO);
    const data = randomData(rows * 3, 9);
    const out = await runGraph(g, { x: float32Tensor([rows, 3], data) });
    let row = 0;
    sizes.forEach((s, i) => {
      expect([...(out[`p${i}`]!.data as Float32Array)]).toEqual([...data.subarray(row * 3, (row + s) * 3)]);
      expect([...(out.dx!.data as Float32Array).subarray(row * 3, (row + s) * 3)]).toEqual(new Array(s * 3).fill(i + 1));
      row += s;
    });
  });

  it('up to MAX_FAN_IO pieces stay one node', () => {
    const g = new Graph('fan');
    const x = g.input('x', [MAX_FAN_IO, 2]);
    g.split(x, new Array(MAX_FAN_IO).fill(1), 0);
    expect(g.nodes.filter((n) => n.op === 'Split')).toHaveLength(1);
  });
});

describe('sign', () => {
  it('is -1, 0 or 1 for zero, tiny and huge normal floats and infinities, without a Sign node', async () => {
    const values = [-Infinity, -3e38, -5, -1, -1.2e-38, 0, 1.2e-38, 1e-30, 0.5, 7, 3e38, Infinity];
    const g = new Graph('sign');
    g.output(g.sign(g.input('x', [values.length])), 'y');
    expect(g.nodes.some((n) => n.op === 'Sign')).toBe(false);
    const y = (await runGraph(g, { x: float32Tensor([values.length], Float32Array.from(values)) })).y!;
    expect([...(y.data as Float32Array)]).toEqual(values.map((v) => Math.sign(v) + 0));
  });
});
