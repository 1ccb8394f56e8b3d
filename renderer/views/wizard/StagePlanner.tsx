import { useEffect, useRef, useState } from 'react';
import type { PlanResult, PruneSummary } from '../../api/client';
import { useClient } from '../../app/client-context';
import { formatCount, formatGflops, formatInt } from '../../format';
import { latestJob, useJobs } from '../../state/jobs';
import { useModels } from '../../state/models';
import { IMPORT_TEACHER, PLANNED_STUDENT, reportError, useForm } from '../../state/ui';
import { edsrCost } from './edsr-cost';
import { distilScale } from './ScaleField';

/** Before any report: the sliders estimate an EDSR-baseline teacher's students in closed form. */
const ESTIMATE_TEACHER = { feats: 64, blocks: 16, scale: 2 } as const;

/** What the numbers show: the engine's plan from a report, or the closed-form estimate. */
interface Shown {
  params: number;
  flops: number;
  layers: string;
  teacherParams: number;
}

function planLabel(p: PlanResult): string {
  const s = p.sizes;
  const shape =
    p.config.family === 'edsr' ? `${s.feats} ch × ${s.blocks} blocks` : `${s.feats} ch × ${s.blocks} groups × ${s.layers} layers`;
  return `${String(p.config.family).toUpperCase()} ${shape} (${formatCount(p.params)} params)`;
}

/**
 * Stage 2 (compress): the student's channels N_c, blocks N_b (and SwinIR's layers N_l) within the
 * bounds the prune report gives, planned by the engine (planCompression); "Fit to budget" lets the
 * engine search the sizes. Without a report the sliders show an EDSR estimate only.
 */
export function StagePlanner() {
  const client = useClient();
  const pruneJob = useJobs((s) => latestJob(s, 'prune'));
  const pruned = pruneJob?.prune;
  const [form, setForm] = useForm('compress');
  // A prune run that finishes after a report was loaded takes its place.
  const seenRun = useRef(pruned?.reportPath);
  useEffect(() => {
    if (pruned?.reportPath === seenRun.current) return;
    seenRun.current = pruned?.reportPath;
    setForm({ loaded: undefined });
  }, [pruned?.reportPath, setForm]);
  const report = form.loaded ?? pruned;
  const [distillForm, setDistill] = useForm('distill');
  // The student is planned at the scale stage 3 distils it at: its upsampler is in the budget.
  const { scale } = distilScale(
    useModels((s) => s.models),
    distillForm,
  );
  const { budget, feats, blocks, layers } = form;
  const resScale = form.resScale > 0 && report?.family === 'edsr' ? form.resScale : undefined;
  const bounds = report?.bounds;
  const swinir = report?.family === 'swinir';
  const key = report && bounds ? JSON.stringify([report.reportPath, feats, blocks, swinir ? layers : 0, resScale ?? 0, scale]) : undefined;
  /** The engine's answer, for the request it answers (so a stale one is never shown). */
  const [answer, setAnswer] = useState<{ key: string; plan?: PlanResult; error?: string }>();
  const [fitError, setFitError] = useState<string>();
  const plan = answer?.key === key ? answer?.plan : undefined;
  const error = fitError ?? (answer?.key === key ? answer?.error : undefined);

  // A new report: the sizes move inside its bounds.
  useEffect(() => {
    if (!bounds) return;
    const clamp = (v: number, hi: number) => Math.max(1, Math.min(v, hi));
    setForm({
      feats: clamp(feats, bounds.feats),
      blocks: clamp(blocks, bounds.blocks),
      ...(bounds.layers !== undefined ? { layers: clamp(layers, bounds.layers) } : {}),
    });
    // eslint-disable-next-line react-hooks/exhaustive-deps -- only when the report changes
  }, [report?.reportPath]);

  // The engine's plan for the sizes on the sliders (debounced: sliders fire on every pixel).
  useEffect(() => {
    if (!report || key === undefined) return;
    const t = setTimeout(() => {
      client
        .planCompression({
          report: report.reportPath,
          feats,
          blocks,
          ...(swinir ? { layers } : {}),
          ...(resScale !== undefined ? { resScale } : {}),
          scale,
        })
        .then(
          (p) => setAnswer({ key, plan: p }),
          (e: Error) => setAnswer({ key, error: e.message }),
        );
    }, 120);
    return () => clearTimeout(t);
  }, [client, report, key, feats, blocks, layers, swinir, resScale, scale]);

  /** The pruned teacher distils into the student too, when this page started that prune run. */
  const teacherOfRun = () => {
    const r = pruneJob?.request;
    if (form.loaded || r?.kind !== 'prune') return {};
    return r.req.teacherPreset
      ? { teacher: IMPORT_TEACHER, teacherPath: r.req.teacher, teacherPreset: r.req.teacherPreset }
      : { teacher: r.req.teacher };
  };

  const loadReport = async () => {
    try {
      setForm({ loaded: await client.readPruneReport(form.reportFile.trim()) });
      setFitError(undefined);
    } catch (e) {
      reportError(e);
    }
  };

  /** The engine searches the sizes for the budget; the sliders take them (and the effect above plans them). */
  const fitToBudget = async (r: PruneSummary) => {
    try {
      const p = await client.planCompression({
        report: r.reportPath,
        params: Math.max(1, Math.floor((r.params * budget) / 100)),
        ...(resScale !== undefined ? { resScale } : {}),
        scale,
      });
      setForm({ feats: p.sizes.feats, blocks: p.sizes.blocks, ...(p.sizes.layers !== undefined ? { layers: p.sizes.layers } : {}) });
      setFitError(undefined);
    } catch (e) {
      setFitError((e as Error).message);
    }
  };

  const estimate = edsrCost({ feats, blocks, scale });
  const shown: Shown | undefined = report
    ? plan && {
        params: plan.params,
        flops: plan.gflops640x360 * 1e9,
        layers: swinir
          ? `${plan.sizes.blocks} × ${plan.sizes.layers} Swin`
          : `${edsrCost({ feats: plan.sizes.feats, blocks: plan.sizes.blocks, scale }).layers} conv`,
        teacherParams: plan.teacherParams,
      }
    : {
        params: estimate.params,
        flops: estimate.flops640x360,
        layers: `${estimate.layers} conv`,
        teacherParams: edsrCost(ESTIMATE_TEACHER).params,
      };
  const teacherParams = report?.params ?? edsrCost(ESTIMATE_TEACHER).params;
  const share = shown ? (100 * shown.params) / shown.teacherParams : undefined;
  const fits = share !== undefined && share <= budget;
  const handed =
    distillForm.student === PLANNED_STUDENT &&
    plan !== undefined &&
    JSON.stringify(distillForm.planned?.config) === JSON.stringify(plan.config);

  return (
    <section className="stage-card" aria-label="Stage 2: Compress">
      <header>
        <span className="stage-num">2</span>
        <h2>Compress</h2>
        <span className={`badge${report ? ' ok' : ''}`}>{report ? 'ready' : 'needs stage 1'}</span>
      </header>
      {!report && (
        <p className="note" data-testid="compress-needs">
          Needs a finished prune run (stage 1) or its report file. Until then the numbers are an estimate for an EDSR-baseline teacher.
        </p>
      )}
      <div className="field">
        <span>
          Report file (importance.json of an earlier run or of <code>minisr prune</code>, optional)
        </span>
        <div className="row">
          <input
            type="text"
            aria-label="Prune report file"
            value={form.reportFile}
            placeholder={report?.reportPath ?? '/path/to/importance.json'}
            spellCheck={false}
            onChange={(e) => setForm({ reportFile: e.target.value })}
          />
          <button type="button" disabled={form.reportFile.trim() === ''} onClick={() => void loadReport()} aria-label="Load report">
            Load
          </button>
        </div>
      </div>
      <label className="field">
        <span>
          Target budget: <strong>{budget}%</strong> of the teacher’s parameters ({formatCount((teacherParams * budget) / 100)})
        </span>
        <input
          type="range"
          min={1}
          max={100}
          value={budget}
          aria-label="Target budget percent"
          onChange={(e) => setForm({ budget: Number(e.target.value) })}
        />
      </label>
      <label className="field">
        <span>
          Channels (N_c): <strong>{feats}</strong>
          {bounds && <span className="muted"> of at most {bounds.feats}</span>}
        </span>
        <input
          type="range"
          min={bounds ? 1 : 4}
          max={bounds?.feats ?? 256}
          step={bounds ? 1 : 4}
          value={feats}
          aria-label="Channels"
          onChange={(e) => setForm({ feats: Number(e.target.value) })}
        />
      </label>
      <label className="field">
        <span>
          {swinir ? 'Residual groups' : 'Residual blocks'} (N_b): <strong>{blocks}</strong>
          {bounds && <span className="muted"> of at most {bounds.blocks}</span>}
        </span>
        <input
          type="range"
          min={1}
          max={bounds?.blocks ?? 32}
          value={blocks}
          aria-label="Blocks"
          onChange={(e) => setForm({ blocks: Number(e.target.value) })}
        />
      </label>
      {report?.family === 'edsr' && (
        <label className="field">
          <span>Residual scale of the student (EDSRmini uses 2)</span>
          <select aria-label="Residual scale" value={form.resScale} onChange={(e) => setForm({ resScale: Number(e.target.value) })}>
            <option value={0}>the teacher’s</option>
            <option value={1}>1</option>
            <option value={2}>2</option>
          </select>
        </label>
      )}
      {swinir && bounds?.layers !== undefined && (
        <label className="field">
          <span>
            Swin layers per group (N_l): <strong>{layers}</strong>
            <span className="muted"> of at most {bounds.layers}</span>
          </span>
          <input
            type="range"
            min={1}
            max={bounds.layers}
            value={layers}
            aria-label="Layers"
            onChange={(e) => setForm({ layers: Number(e.target.value) })}
          />
        </label>
      )}
      {error && (
        <p role="alert" className="error" data-testid="plan-error">
          {error}
        </p>
      )}
      <p className="muted small" data-testid="plan-scale">
        The student at x{scale}, the scale stage 3 distils it at (its upsampler counts in the budget); changing it there plans again.
      </p>
      <dl className="numbers" aria-label={report ? 'Planned student' : `Resulting EDSR x${scale} (estimate)`}>
        <div>
          <dt>Layers</dt>
          <dd data-testid="plan-layers">{shown?.layers ?? '—'}</dd>
        </div>
        <div>
          <dt>Parameters</dt>
          <dd data-testid="plan-params">{shown ? formatInt(shown.params) : '—'}</dd>
        </div>
        <div>
          <dt>FLOPs (640×360)</dt>
          <dd data-testid="plan-flops">{shown ? formatGflops(shown.flops) : '—'}</dd>
        </div>
        <div>
          <dt>Of teacher</dt>
          <dd className={fits ? 'ok' : 'warn'} data-testid="plan-share">
            {share === undefined ? '—' : `${share.toFixed(share < 10 ? 2 : 1)}% ${fits ? '✓ within budget' : '✗ over budget'}`}
          </dd>
        </div>
      </dl>
      <p className="muted small">
        {report
          ? `Teacher: ${report.family.toUpperCase()}, ${formatInt(report.params)} parameters; counts from the engine's graph.`
          : `Teacher (estimate): EDSR-baseline x2, ${formatInt(teacherParams)} parameters, ${formatGflops(edsrCost(ESTIMATE_TEACHER).flops640x360)}.`}
      </p>
      <div className="actions">
        <button type="button" disabled={!report} onClick={() => report && void fitToBudget(report)} aria-label="Fit to budget">
          Fit to budget
        </button>
        <button
          type="button"
          className="primary"
          disabled={!plan}
          aria-label="Use as student"
          onClick={() =>
            plan &&
            setDistill({
              student: PLANNED_STUDENT,
              planned: { config: plan.config, params: plan.params, label: planLabel(plan), report: report?.reportPath },
              ...teacherOfRun(),
            })
          }
        >
          Use as student
        </button>
        {handed && (
          <span className="state-pill done" data-testid="plan-handed">
            stage 3 student
          </span>
        )}
      </div>
    </section>
  );
}
