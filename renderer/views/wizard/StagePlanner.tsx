import { useState } from 'react';
import { formatCount, formatGflops, formatInt } from '../../format';
import { edsrCost } from './edsr-cost';

const TEACHER = { feats: 64, blocks: 16, scale: 2 } as const;

/**
 * Stages 1 and 2 (prune, compress): the controls are live so the resulting EDSR's size can be
 * explored, but running them waits for the compression engine.
 */
export function StagePlanner() {
  const [budget, setBudget] = useState(5);
  const [feats, setFeats] = useState(16);
  const [blocks, setBlocks] = useState(8);
  const teacher = edsrCost(TEACHER);
  const cost = edsrCost({ feats, blocks, scale: 2 });
  const share = (100 * cost.params) / teacher.params;
  const fits = share <= budget;
  return (
    <>
      <section className="stage-card" aria-label="Stage 1: Prune">
        <header><span className="stage-num">1</span><h2>Prune</h2><span className="badge">coming</span></header>
        <p className="note">Arrives with the compression engine.</p>
        <label className="field">
          <span>Target budget: <strong>{budget}%</strong> of the teacher’s parameters ({formatCount((teacher.params * budget) / 100)})</span>
          <input type="range" min={1} max={100} value={budget} aria-label="Target budget percent" onChange={(e) => setBudget(Number(e.target.value))} />
        </label>
        <label className="field">
          <span>Channels (features): <strong>{feats}</strong></span>
          <input type="range" min={4} max={256} step={4} value={feats} aria-label="Channels" onChange={(e) => setFeats(Number(e.target.value))} />
        </label>
        <p className="live-cost" aria-live="polite">
          Resulting model: <strong>{formatInt(cost.params)}</strong> parameters · <strong>{formatGflops(cost.flops640x360)}</strong> at 640×360
        </p>
        <button type="button" disabled aria-label="Run pruning (arrives with the compression engine)">Run pruning</button>
      </section>
      <section className="stage-card" aria-label="Stage 2: Compress">
        <header><span className="stage-num">2</span><h2>Compress</h2><span className="badge">coming</span></header>
        <p className="note">Arrives with the compression engine.</p>
        <label className="field">
          <span>Residual blocks: <strong>{blocks}</strong></span>
          <input type="range" min={1} max={32} value={blocks} aria-label="Blocks" onChange={(e) => setBlocks(Number(e.target.value))} />
        </label>
        <dl className="numbers" aria-label="Resulting EDSR x2">
          <div><dt>Layers</dt><dd data-testid="plan-layers">{cost.layers} conv</dd></div>
          <div><dt>Parameters</dt><dd data-testid="plan-params">{formatInt(cost.params)}</dd></div>
          <div><dt>FLOPs (640×360)</dt><dd data-testid="plan-flops">{formatGflops(cost.flops640x360)}</dd></div>
          <div>
            <dt>Of teacher</dt>
            <dd className={fits ? 'ok' : 'warn'} data-testid="plan-share">{share.toFixed(share < 10 ? 2 : 1)}% {fits ? '✓ within budget' : '✗ over budget'}</dd>
          </div>
        </dl>
        <p className="muted small">Teacher: EDSR-baseline x2, {formatInt(teacher.params)} parameters, {formatGflops(teacher.flops640x360)}.</p>
        <button type="button" disabled aria-label="Run compression (arrives with the compression engine)">Run compression</button>
      </section>
    </>
  );
}
