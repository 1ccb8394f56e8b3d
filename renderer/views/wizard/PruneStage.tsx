import type { PruneRequest, PruneSummary } from '../../api/client';
import { useClient } from '../../app/client-context';
import { usePathPicker } from '../../components/PathBrowser';
import { formatInt } from '../../format';
import { isActive, latestJob, useJobs } from '../../state/jobs';
import { useModels } from '../../state/models';
import { IMPORT_TEACHER, reportError, useForm } from '../../state/ui';
import { DataFolders, TeacherFields } from './TeacherFields';
import { JobControls, NumberField, TrainingPanel } from './TrainingPanel';

const pct = (x: number) => `${(100 * x).toFixed(1)}%`;

/** What a form still lacks before it can run, in words (empty when ready). */
function pruneNeeds(f: {
  importing: boolean;
  teacherPath: string;
  teacherId?: string;
  dataDir: string;
  steps: number;
  lambda: number;
  batch: number;
  patch: number;
  lr: number;
}): string[] {
  const needs: string[] = [];
  if (f.importing ? !/\.(pth|pt|safetensors)$/i.test(f.teacherPath.trim()) : !f.teacherId)
    needs.push('a teacher (a listed model, or a .pth / .safetensors file)');
  if (f.dataDir.trim() === '') needs.push('a training images folder');
  if (!(f.steps >= 1)) needs.push('at least 1 step');
  if (!(f.lambda >= 0)) needs.push('a lambda of 0 or more');
  if (!(f.batch >= 1 && f.patch >= 8 && f.lr > 0)) needs.push('batch >= 1, patch >= 8 and a positive learning rate');
  return needs;
}

/** Stage 1: L1-sparsify the teacher with OBProx-SG and read off which channels and blocks matter. */
export function PruneStage() {
  const client = useClient();
  // Listed models of the families stage 1 can prune (foreign ONNX files and imported RRDBNet/SRVGG cannot).
  const models = useModels((s) => s.models).filter((m) => m.family === 'edsr' || m.family === 'swinir');
  const job = useJobs((s) => latestJob(s, 'prune'));
  const { pick, dialog } = usePathPicker();
  const [form, setForm] = useForm('prune');
  const teacherId = form.teacher ?? (models.find((m) => !m.compact) ?? models[0])?.id ?? IMPORT_TEACHER;
  const importing = teacherId === IMPORT_TEACHER;
  const active = isActive(job);
  const needs = pruneNeeds({ ...form, importing, teacherId });

  const start = async () => {
    if (needs.length > 0 || active) return;
    const req: PruneRequest = {
      teacher: importing ? form.teacherPath.trim() : teacherId,
      ...(importing ? { teacherPreset: form.teacherPreset } : {}),
      dataDir: form.dataDir.trim(),
      ...(form.valDir.trim() ? { valDir: form.valDir.trim() } : {}),
      steps: form.steps,
      lambda: form.lambda,
      batch: form.batch,
      patch: form.patch,
      lr: form.lr,
    };
    try {
      useJobs.getState().track(await client.startPrune(req), { kind: 'prune', req });
    } catch (e) {
      reportError(e);
    }
  };

  const chooseCheckpoint = async () => {
    try {
      const p = await client.dialogs?.openCheckpoint();
      if (p) setForm({ teacherPath: p });
    } catch (e) {
      reportError(e);
    }
  };

  return (
    <section className="stage-card" aria-label="Stage 1: Prune">
      {dialog}
      <header>
        <span className="stage-num">1</span>
        <h2>Prune</h2>
        <span className={`badge${job?.prune ? ' ok' : ''}`}>{job?.prune ? 'done' : 'ready'}</span>
      </header>
      <p className="muted small">
        Fine-tunes the teacher with an L1 penalty (OBProx-SG) so unimportant weights become exactly zero, then reports which channels and
        blocks still matter.
      </p>
      <fieldset disabled={active} className="grid-form">
        <TeacherFields
          models={models}
          teacherId={teacherId}
          onTeacher={(teacher) => setForm({ teacher })}
          path={form.teacherPath}
          onPath={(teacherPath) => setForm({ teacherPath })}
          {...(client.dialogs ? { onChooseFile: () => void chooseCheckpoint() } : {})}
          preset={form.teacherPreset}
          onPreset={(teacherPreset) => setForm({ teacherPreset })}
          labels={{
            select: 'Teacher to prune',
            importOption: 'Import a .pth / .safetensors file…',
            fileCaption: 'Teacher file (.pth or .safetensors)',
            file: 'Checkpoint to prune',
            chooseFile: 'Choose checkpoint to prune',
            preset: 'Architecture of the checkpoint',
          }}
        />
        <NumberField label="Prune steps" value={form.steps} min={1} step={100} onChange={(steps) => setForm({ steps })} />
        <NumberField label="Lambda (L1 weight)" value={form.lambda} min={0} step={1e-4} onChange={(lambda) => setForm({ lambda })} />
        <NumberField label="Prune batch" value={form.batch} min={1} step={1} onChange={(batch) => setForm({ batch })} />
        <NumberField
          label="Patch size for pruning (LR pixels)"
          value={form.patch}
          min={8}
          step={8}
          onChange={(patch) => setForm({ patch })}
        />
        <NumberField label="SGD rate for pruning" value={form.lr} min={0} step={1e-3} onChange={(lr) => setForm({ lr })} />
        <DataFolders
          dataDir={form.dataDir}
          valDir={form.valDir}
          onDataDir={(dataDir) => setForm({ dataDir })}
          onValDir={(valDir) => setForm({ valDir })}
          pick={pick}
          labels={{
            data: 'Prune data folder',
            chooseData: 'Choose prune data folder',
            val: 'Prune validation images',
            chooseVal: 'Choose prune validation folder',
          }}
        />
      </fieldset>
      {!active && needs.length > 0 && (
        <p className="note" data-testid="prune-needs">
          Needs {needs.join(', ')}.
        </p>
      )}
      <JobControls
        job={job}
        noun="pruning"
        start={() => void start()}
        canStart={needs.length === 0}
        startLabel="Run pruning"
        startAriaLabel="Run pruning"
        stateTestId="prune-state"
      />
      {job && (
        <TrainingPanel
          entry={job}
          what="Pruning"
          statsId="prune-stats"
          labels={{ loss: 'Prune loss (L1)', val: 'Prune PSNR (validation)' }}
        >
          {job.prune && <PruneReport summary={job.prune} />}
        </TrainingPanel>
      )}
    </section>
  );
}

function PruneReport({ summary: s }: { summary: PruneSummary }) {
  const sizes = (a: PruneSummary['teacher']) => `N_c ${a.feats}, N_b ${a.blocks}${a.layers !== undefined ? `, N_l ${a.layers}` : ''}`;
  return (
    <div className="result-card" data-testid="prune-report">
      <h3>Importance report</h3>
      <dl className="numbers">
        <div>
          <dt>Weight sparsity</dt>
          <dd data-testid="prune-sparsity">{pct(s.weightSparsity)}</dd>
        </div>
        <div>
          <dt>Zero parameters</dt>
          <dd>
            {formatInt(s.zeros)} of {formatInt(s.params)}
          </dd>
        </div>
        <div>
          <dt>Alive channels</dt>
          <dd data-testid="prune-channels">
            {s.channels.alive} of {s.channels.count}
            {s.channels.exact ? '' : ' (ranked only)'}
          </dd>
        </div>
        <div>
          <dt>{s.family === 'edsr' ? 'Residual blocks' : 'Residual groups'} kept</dt>
          <dd>
            {s.blocks.alive} of {s.blocks.count}
          </dd>
        </div>
        <div>
          <dt>Largest student</dt>
          <dd data-testid="prune-bounds">{s.bounds ? sizes(s.bounds) : 'nothing left alive'}</dd>
        </div>
      </dl>
      <p className="muted small">
        Teacher: {s.family.toUpperCase()} with {sizes(s.teacher)}. Report: <code>{s.reportPath}</code>
      </p>
      <details>
        <summary>Sparsity by layer ({s.layers.length})</summary>
        <table className="layer-table" aria-label="Sparsity by layer">
          <tbody>
            {s.layers.map((l) => (
              <tr key={l.key}>
                <td>
                  <code>{l.key}</code>
                </td>
                <td>{pct(l.sparsity)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </details>
    </div>
  );
}
