import { useEffect } from 'react';
import type { BatchFileStatus, BatchRequest } from '../../api/client';
import { useClient } from '../../app/client-context';
import { useCommand } from '../../app/commands';
import { usePathPicker } from '../../components/PathBrowser';
import { ModelSelect } from '../../components/ModelPicker';
import { ProgressBar } from '../../components/ProgressBar';
import { RecentBatches } from '../../components/Recent';
import { ScaleSelect } from '../../components/ScaleSelect';
import { modelForScale, scaleChoice } from '../../components/scales';
import { baseName } from '../../format';
import { FailedFiles } from './FailedFiles';
import { FilesTable } from './FilesTable';
import { isActive, latestJob, useJobs } from '../../state/jobs';
import { useModels } from '../../state/models';
import { useQueueBatch } from '../../state/queue-batch';
import { useSettings } from '../../state/settings';
import { reportError, useForm, useUi } from '../../state/ui';
import { QueueBatchPanel } from './QueueBatchPanel';

const STATE_LABEL: Record<BatchFileStatus['state'], string> = {
  queued: 'Queued',
  running: 'Running',
  done: 'Done',
  failed: 'Failed',
  skipped: 'Skipped',
};

export function BatchView() {
  const client = useClient();
  const models = useModels((s) => s.models);
  const job = useJobs((s) => latestJob(s, 'batch'));
  const droppedFolder = useUi((s) => s.droppedFolder);
  const { pick, dialog } = usePathPicker();
  const [form, setForm] = useForm('batch');
  const { inputs, outputDir, recursive, skipExisting, glob } = form;
  // As in the Upscale view: models that reach the scale; a scale preselects its native model.
  const choice = scaleChoice(models, form);
  const { scale, modelId: model } = choice;
  const running = isActive(job);
  const queueUrl = useSettings((s) => s.settings?.queueUrl);
  const queued = useQueueBatch();
  // A batch sent to the queue before a reload: show it again once the queue's URL is known.
  useEffect(() => {
    if (queueUrl) useQueueBatch.getState().resume(client);
  }, [client, queueUrl]);

  const add = async (mode: 'folder' | 'files') => {
    try {
      const paths = await pick(mode, mode === 'folder' ? 'Choose a folder to upscale' : 'Choose images to upscale');
      if (paths.length > 0) {
        const cur = useUi.getState().forms.batch.inputs;
        setForm({ inputs: [...cur, ...paths.filter((p) => !cur.includes(p))] });
        useUi.getState().setDroppedFolder(undefined);
      }
    } catch (e) {
      reportError(e);
    }
  };
  const chooseOutput = async () => {
    try {
      const [dir] = await pick('folder', 'Choose the output folder');
      if (dir) setForm({ outputDir: dir });
    } catch (e) {
      reportError(e);
    }
  };
  const request = (): BatchRequest | undefined =>
    model && outputDir && inputs.length > 0
      ? { inputs, modelId: model, scale, outputDir, recursive, skipExisting, ...(glob.trim() ? { glob: glob.trim() } : {}) }
      : undefined;
  const sendToQueue = () => {
    const req = request();
    if (req) void useQueueBatch.getState().send(client, req);
  };
  const start = async () => {
    if (!model || !outputDir || inputs.length === 0 || running) return;
    useQueueBatch.getState().forget(); // the view shows this run now
    const req: BatchRequest = {
      inputs,
      modelId: model,
      scale,
      outputDir,
      recursive,
      skipExisting,
      ...(glob.trim() ? { glob: glob.trim() } : {}),
    };
    try {
      useJobs.getState().track(await client.startBatch(req), { kind: 'batch', req });
    } catch (e) {
      reportError(e);
    }
  };
  const cancel = () => job && client.cancelJob(job.info.id).catch(reportError);
  const canStart = !!model && !!outputDir && inputs.length > 0 && !running;
  useCommand('run', canStart ? () => void start() : undefined);
  useCommand('cancel', running ? () => void cancel() : undefined);
  useCommand('open', () => void add('folder'));

  const files = job?.files ?? [];
  const failures = files.filter((f) => f.state === 'failed');
  const counts = countStates(files);
  const outDir = job?.request?.kind === 'batch' ? job.request.req.outputDir : undefined;

  return (
    <div className="batch-view">
      {dialog}
      <section className="panel" aria-label="Batch setup">
        {droppedFolder && (
          <p className="hint" role="status">
            You dropped <strong>{droppedFolder}</strong>. The page cannot see where a dropped folder lives: choose it with “Add folder”.
          </p>
        )}
        <h2>Inputs</h2>
        <ul className="path-list" aria-label="Batch inputs">
          {inputs.map((p) => (
            <li key={p}>
              <span title={p}>
                <strong>{baseName(p.replace(/[\\/]+$/, ''))}</strong>
                <span className="muted">{p}</span>
              </span>
              <button
                type="button"
                className="ghost"
                aria-label={`Remove ${baseName(p)}`}
                onClick={() => setForm({ inputs: inputs.filter((x) => x !== p) })}
              >
                ×
              </button>
            </li>
          ))}
          {inputs.length === 0 && <li className="muted">No inputs yet.</li>}
        </ul>
        <div className="actions">
          <button type="button" onClick={() => void add('folder')}>
            Add folder…
          </button>
          <button type="button" onClick={() => void add('files')}>
            Add images…
          </button>
        </div>
        <div className="row">
          <label className="check">
            <input
              type="checkbox"
              checked={recursive}
              onChange={(e) => setForm({ recursive: e.target.checked })}
              aria-label="Include subfolders"
            />{' '}
            Include subfolders
          </label>
          <label className="check">
            <input
              type="checkbox"
              checked={skipExisting}
              onChange={(e) => setForm({ skipExisting: e.target.checked })}
              aria-label="Skip existing outputs"
            />{' '}
            Skip existing outputs
          </label>
        </div>
        <label className="field">
          <span>Only files matching (glob, optional)</span>
          <input
            type="text"
            value={glob}
            placeholder="*.jpg"
            onChange={(e) => setForm({ glob: e.target.value })}
            aria-label="File filter glob"
          />
        </label>

        <h2>Model and output</h2>
        <div className="row">
          <label className="field">
            <span>Model</span>
            <ModelSelect
              models={choice.offered}
              value={model}
              onChange={(modelId) => setForm({ modelId })}
              ariaLabel="Batch model"
              scale={scale}
            />
          </label>
          <label className="field">
            <span>Scale</span>
            <ScaleSelect
              label="Batch scale"
              value={scale}
              scales={choice.scales}
              describe={choice.label}
              onChange={(s) => setForm({ scale: s, modelId: modelForScale(models, s, model) })}
            />
          </label>
        </div>
        <div className="field">
          <span>Output folder</span>
          <div className="row">
            <code className="path" data-testid="batch-output-dir">
              {outputDir ?? 'not chosen'}
            </code>
            <button type="button" onClick={() => void chooseOutput()} aria-label="Choose output folder">
              Choose…
            </button>
          </div>
        </div>
        <div className="actions">
          <button type="button" className="primary big" disabled={!canStart} onClick={() => void start()}>
            {queueUrl ? 'Run here' : 'Start batch'}
          </button>
          {queueUrl && (
            <button
              type="button"
              className="primary big"
              disabled={!request() || queued.sending}
              onClick={sendToQueue}
              title={`One job per image for the minisr workers of ${queueUrl}`}
            >
              Send to queue
            </button>
          )}
          {running && (
            <button type="button" onClick={() => void cancel()} aria-label="Cancel batch">
              Cancel
            </button>
          )}
        </div>
        <RecentBatches onPick={(b) => setForm({ inputs: [...b.inputs], outputDir: b.outputDir, modelId: b.modelId, scale: b.scale })} />
      </section>

      <section className="queue" aria-label="Batch queue">
        {(queued.batch || queued.pendingId) && (
          <QueueBatchPanel batch={queued.batch} pendingId={queued.pendingId} error={queued.error} onDismiss={queued.forget} />
        )}
        {!(queued.batch || queued.pendingId) && queued.error && (
          <p role="alert" className="error">
            {queued.error}
          </p>
        )}
        {!job && !queued.batch && !queued.pendingId && (
          <p className="muted empty">Add a folder or images, choose where the results go, and start.</p>
        )}
        {job && !queued.batch && !queued.pendingId && (
          <>
            <header className="queue-head">
              <h2>{job.info.title || 'Batch'}</h2>
              <span className={`state-pill ${job.info.state}`}>{job.info.state}</span>
              {client.dialogs && outDir && (
                <button
                  type="button"
                  onClick={() => void client.dialogs!.revealInFolder(outDir).catch(reportError)}
                  aria-label="Open output folder"
                >
                  Open output folder
                </button>
              )}
            </header>
            {running && <ProgressBar label="Batch progress" progress={job.progress} unit="files" testId="batch-progress" />}
            {files.length > 0 ? (
              <p className="summary" data-testid="batch-summary">
                {counts.done} done · {counts.failed} failed · {counts.skipped} skipped · {counts.queued + counts.running} to go
              </p>
            ) : (
              job.batchSummary && (
                <p className="summary" data-testid="batch-summary">
                  {job.batchSummary.done} done · {job.batchSummary.failed} failed · {job.batchSummary.skipped} skipped
                </p>
              )
            )}
            {job.info.state === 'failed' && job.info.error && (
              <p role="alert" className="error">
                {job.info.error}
              </p>
            )}
            <FailedFiles failures={failures} />
            <FilesTable files={files} labels={STATE_LABEL} />
          </>
        )}
      </section>
    </div>
  );
}

function countStates(files: readonly BatchFileStatus[]) {
  const c = { queued: 0, running: 0, done: 0, failed: 0, skipped: 0 };
  for (const f of files) c[f.state]++;
  return c;
}
