import { useEffect, useMemo } from 'react';
import type { ImageRef, ModelInfo, OutputFormat } from '../../api/client';
import { useClient } from '../../app/client-context';
import { useCommand } from '../../app/commands';
import { importFiles, isImageFile } from '../../app/open-images';
import { outputFormat, outputName, saveOutput } from '../../app/save';
import { ModelPicker } from '../../components/ModelPicker';
import { ProgressBar } from '../../components/ProgressBar';
import { RecentImages } from '../../components/Recent';
import { modelForScale, scaleChoice } from '../../components/scales';
import { formatBytes, formatDuration, formatMillis } from '../../format';
import { useImages } from '../../state/images';
import { isActive, latestJob, useJobs } from '../../state/jobs';
import { useModels } from '../../state/models';
import { useSettings } from '../../state/settings';
import { reportError, useForm, useUi } from '../../state/ui';
import { DropZone } from './DropZone';

const FORMATS: readonly (OutputFormat | 'same')[] = ['same', 'png', 'jpeg', 'webp', 'avif', 'tiff'];
const LOSSY = new Set(['jpeg', 'webp', 'avif']);

export function UpscaleView() {
  const client = useClient();
  const { images, order, currentId, select } = useImages();
  const models = useModels((s) => s.models);
  const settings = useSettings((s) => s.settings);
  const job = useJobs((s) => latestJob(s, 'upscale'));
  const [form, setForm] = useForm('upscale');
  // Only models that reach the scale are offered; picking a scale preselects its native model (x3, x4).
  const choice = scaleChoice(models, form);
  const { scale, modelId } = choice;
  const setModelId = (id: string) => setForm({ modelId: id });
  const setScale = (s: number) => setForm({ scale: s, modelId: modelForScale(models, s, modelId) });
  const current = currentId ? images[currentId] : undefined;

  // Paste anywhere while this view is up: images from the clipboard become sources.
  useEffect(() => {
    const onPaste = (e: ClipboardEvent) => {
      const files = Array.from(e.clipboardData?.files ?? []).filter(isImageFile);
      if (files.length === 0) return;
      e.preventDefault();
      void importFiles(client, files);
    };
    window.addEventListener('paste', onPaste);
    return () => window.removeEventListener('paste', onPaste);
  }, [client]);

  const running = isActive(job);
  const run = async () => {
    if (!current || !modelId || running) return;
    const req = { imageId: current.id, modelId, scale };
    try {
      const info = await client.startUpscale(req);
      useJobs.getState().track(info, { kind: 'upscale', req });
    } catch (e) {
      reportError(e);
    }
  };
  const cancel = () => job && running && client.cancelJob(job.info.id).catch(reportError);
  useCommand('run', current && modelId && !running ? () => void run() : undefined);
  useCommand('cancel', running ? () => void cancel() : undefined);

  const result = job?.request?.kind === 'upscale' && job.request.req.imageId === current?.id ? job : undefined;
  const format = outputFormat(settings, current);
  const save = useMemo(() => {
    const out = result?.upscale;
    if (!out || !current) return undefined;
    const name = outputName(settings?.nameTemplate ?? '{name}_{model}_x{scale}.{ext}', current.name, out.modelId, out.scale, format);
    return () => void saveOutput(client, out.output, name, format, settings?.quality);
  }, [result, current, settings, format, client]);
  useCommand('save', save);

  return (
    <div className="upscale-view">
      <section className="stage-area" aria-label="Source image">
        {current ? (
          <>
            <SourcePreview image={current} />
            <div className="thumbs" role="listbox" aria-label="Opened images">
              {order.map((id) => (
                <button
                  key={id}
                  role="option"
                  aria-selected={id === currentId}
                  className={`thumb${id === currentId ? ' selected' : ''}`}
                  onClick={() => select(id)}
                  title={images[id]!.name}
                >
                  <img src={client.imageUrl({ imageId: id, maxSide: 96 })} alt={images[id]!.name} loading="lazy" />
                </button>
              ))}
            </div>
            <DropZone compact />
          </>
        ) : (
          <>
            <DropZone />
            <RecentImages />
          </>
        )}
      </section>

      <aside className="panel" aria-label="Upscale settings">
        <h2>Model</h2>
        <ModelPicker models={choice.offered} value={modelId} onChange={setModelId} scale={scale} />

        <h2>Scale</h2>
        <div role="radiogroup" aria-label="Scale" className="segmented">
          {choice.scales.map((s) => (
            <label key={s} className={s === scale ? 'selected' : ''}>
              <input type="radio" name="scale" value={s} checked={s === scale} onChange={() => setScale(s)} />
              {choice.label(s)}
            </label>
          ))}
        </div>

        {current && <Estimate image={current} model={models.find((m) => m.id === modelId)} scale={scale} />}

        <h2>Output</h2>
        <div className="row">
          <label className="field">
            <span>Format</span>
            <select
              aria-label="Output format"
              value={settings?.format ?? 'same'}
              onChange={(e) => settings && void useSettings.getState().update(client, { format: e.target.value as OutputFormat | 'same' })}
            >
              {FORMATS.map((f) => (
                <option key={f} value={f}>
                  {f === 'same' ? 'Same as source' : f.toUpperCase()}
                </option>
              ))}
            </select>
          </label>
          <label className="field">
            <span>Quality {settings?.quality ?? ''}</span>
            <input
              type="range"
              min={1}
              max={100}
              aria-label="Output quality"
              disabled={!LOSSY.has(format)}
              value={settings?.quality ?? 90}
              onChange={(e) => settings && void useSettings.getState().update(client, { quality: Number(e.target.value) })}
            />
          </label>
        </div>

        <div className="actions">
          <button
            type="button"
            className="primary big"
            onClick={() => void run()}
            disabled={!current || !modelId || running}
            aria-label="Run upscale"
          >
            Upscale
          </button>
          {running && (
            <button type="button" onClick={() => void cancel()} aria-label="Cancel upscale">
              Cancel
            </button>
          )}
        </div>
        {result &&
          (isActive(result) ? (
            <ProgressBar label="Upscale progress" progress={result.progress} unit="tiles" testId="upscale-progress" />
          ) : (
            <JobOutcome entry={result} source={current} onSave={save} />
          ))}
      </aside>
    </div>
  );
}

/**
 * Input megapixels a run processes: each pass runs on the previous pass's output, so x4 by a x2
 * model is 1 + 4 and x8 1 + 4 + 16 times the source; one pass of a native model, 1.
 */
export function passMegapixels(width: number, height: number, scale: number, modelScale = 2): number {
  let mp = 0;
  const step = modelScale >= 2 ? modelScale : 2; // a model of unknown scale (0): as x2
  for (let side = 1; side < scale; side *= step) mp += (width * side * height * side) / 1e6;
  return mp;
}

function Estimate({ image, model, scale }: { image: ImageRef; model?: ModelInfo; scale: number }) {
  const out = `${image.width * scale}×${image.height * scale}`;
  const speed = model?.cpuMegapixelsPerSec;
  return (
    <p className="estimate muted small" data-testid="upscale-estimate">
      Output {out}
      {speed
        ? ` · about ${formatDuration(passMegapixels(image.width, image.height, scale, model?.scale) / speed)} on CPU at the measured ${speed.toFixed(2)} MP/s`
        : ''}
    </p>
  );
}

function SourcePreview({ image }: { image: ImageRef }) {
  const client = useClient();
  return (
    <figure className="source-preview">
      <img src={client.imageUrl({ imageId: image.id, maxSide: 1200 })} alt={`Source: ${image.name}`} />
      <figcaption>
        <strong>{image.name}</strong> · {image.width}×{image.height} · {image.format.toUpperCase()} · {formatBytes(image.bytes)}
      </figcaption>
    </figure>
  );
}

function JobOutcome({
  entry,
  source,
  onSave,
}: {
  entry: NonNullable<ReturnType<typeof latestJob>>;
  source?: ImageRef;
  onSave?: () => void;
}) {
  const { info, upscale } = entry;
  if (info.state === 'failed')
    return (
      <p role="alert" className="error">
        Upscale failed: {info.error ?? 'unknown error'}
      </p>
    );
  if (info.state === 'cancelled')
    return (
      <p className="muted" role="status">
        Cancelled.
      </p>
    );
  if (!upscale) return null;
  const openCompare = () => {
    if (!source) return;
    const { compare } = useUi.getState();
    // The new result becomes B; the model that was B (if another) moves to A.
    const a = compare.b && compare.b !== upscale.modelId ? compare.b : compare.a;
    useUi.getState().setCompare({ sourceId: source.id, scale: upscale.scale, a, b: upscale.modelId, splitLeft: a ? 'a' : 'original' });
    useUi.getState().setView('compare');
  };
  return (
    <div className="result-card" data-testid="upscale-result" role="status">
      <div>
        Done:{' '}
        <strong>
          {upscale.output.width}×{upscale.output.height}
        </strong>{' '}
        in {formatMillis(upscale.millis)} on {upscale.ep}
        {upscale.passes > 1 && ` (${upscale.passes} passes)`}
      </div>
      <div className="actions">
        <button type="button" onClick={openCompare} aria-label="Compare with original">
          Compare
        </button>
        <button type="button" className="primary" onClick={onSave} aria-label="Save result">
          Save…
        </button>
      </div>
    </div>
  );
}
