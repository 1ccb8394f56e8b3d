import { useEffect, useLayoutEffect, useMemo, useRef, useState } from 'react';
import type { ImageRef, UpscaleResult } from '../../api/client';
import { useClient } from '../../app/client-context';
import { useCommand } from '../../app/commands';
import { outputFormat, outputName, saveOutput } from '../../app/save';
import { formatMillis, scaleLabel } from '../../format';
import { useImages } from '../../state/images';
import { isActive, resultKey, resultsFor, useJobs } from '../../state/jobs';
import { findModel, useModels } from '../../state/models';
import { useSettings } from '../../state/settings';
import { reportError, useUi, type CompareMode } from '../../state/ui';
import { clampView, fitView, panBy, zoomAt, type Size, type ViewState } from './geometry';
import { Pane, type PaneImage } from './Pane';

interface Column {
  readonly key: 'original' | 'a' | 'b';
  readonly title: string;
  readonly image?: PaneImage;
  readonly result?: UpscaleResult;
  /** Its upscale is queued or running. */
  readonly running?: boolean;
  /** A model has been picked for this slot. */
  readonly chosen?: boolean;
}

export function CompareView() {
  const client = useClient();
  const { images, order, currentId } = useImages();
  const models = useModels((s) => s.models);
  const compare = useUi((s) => s.compare);
  const setCompare = useUi((s) => s.setCompare);
  const sourceId = compare.sourceId ?? currentId;
  const source = sourceId ? images[sourceId] : undefined;
  const jobs = useJobs();
  const results = useMemo(() => (sourceId ? resultsFor(jobs, sourceId) : {}), [jobs, sourceId]);
  const settings = useSettings((s) => s.settings);

  const scale = compare.scale;
  const resultOf = (modelId?: string) => (modelId ? results[resultKey({ modelId, scale })] : undefined);
  const saveTarget = resultOf(compare.b) ?? resultOf(compare.a);
  const format = outputFormat(settings, source);
  const save = saveTarget && source
    ? () => void saveOutput(client, saveTarget.output,
      outputName(settings?.nameTemplate ?? '{name}_{model}_x{scale}.{ext}', source.name, saveTarget.modelId, saveTarget.scale, format), format, settings?.quality)
    : undefined;
  useCommand('save', save);

  if (!source) {
    return <p className="muted empty">Open an image in the Upscale view (1) and run a model to compare results here.</p>;
  }
  const out: Size = { width: source.width * scale, height: source.height * scale };
  const col = (key: 'a' | 'b'): Column => {
    const modelId = compare[key];
    const result = resultOf(modelId);
    const title = findModel(models, modelId)?.label ?? modelId ?? (key === 'a' ? 'Model A' : 'Model B');
    const running = !result && !!modelId && jobs.order.some((id) => {
      const e = jobs.jobs[id]!;
      return isActive(e) && e.request?.kind === 'upscale' && e.request.req.imageId === source.id && e.request.req.modelId === modelId && e.request.req.scale === scale;
    });
    return { key, title, result, running, chosen: !!modelId, image: result && { imageId: result.output.id, factor: 1 } };
  };
  const original: Column = { key: 'original', title: `Original (bicubic x${scale})`, image: { imageId: source.id, factor: scale } };
  const a = col('a');
  const b = col('b');
  const splitLeft = compare.splitLeft === 'a' ? a : original;

  return (
    <div className="compare-view">
      <div className="toolbar" role="toolbar" aria-label="Compare options">
        <label className="field inline">
          <span>Image</span>
          <select aria-label="Compared image" value={source.id} onChange={(e) => setCompare({ sourceId: e.target.value })}>
            {order.map((id) => <option key={id} value={id}>{images[id]!.name}</option>)}
          </select>
        </label>
        <label className="field inline">
          <span>Scale</span>
          <select aria-label="Compared scale" value={scale} onChange={(e) => setCompare({ scale: Number(e.target.value) })}>
            {[2, 4, 8].map((s) => <option key={s} value={s}>{scaleLabel(s)}</option>)}
          </select>
        </label>
        {(['a', 'b'] as const).map((k) => (
          <ModelSlot key={k} slot={k} source={source} scale={scale} />
        ))}
        <div role="radiogroup" aria-label="Compare mode" className="segmented">
          {([['split', 'Split'], ['side', 'Side by side'], ['diff', 'Difference']] as [CompareMode, string][]).map(([m, t]) => (
            <label key={m} className={compare.mode === m ? 'selected' : ''}>
              <input type="radio" name="compare-mode" checked={compare.mode === m} onChange={() => setCompare({ mode: m })} />
              {t}
            </label>
          ))}
        </div>
        {compare.mode === 'split' && (
          <label className="field inline">
            <span>Left side</span>
            <select aria-label="Split left side" value={compare.splitLeft} onChange={(e) => setCompare({ splitLeft: e.target.value as 'original' | 'a' })}>
              <option value="original">Original</option>
              <option value="a">Model A</option>
            </select>
          </label>
        )}
        {compare.mode === 'diff' && (
          <label className="field inline">
            <span>Gain</span>
            <select aria-label="Difference gain" value={compare.diffGain} onChange={(e) => setCompare({ diffGain: Number(e.target.value) })}>
              {[1, 4, 8, 16, 32].map((g) => <option key={g} value={g}>×{g}</option>)}
            </select>
          </label>
        )}
        <button type="button" className="primary" disabled={!save} onClick={save} aria-label="Save compared result">Save…</button>
      </div>
      <Viewer
        out={out}
        mode={compare.mode}
        columns={compare.mode === 'split' ? [splitLeft, b] : compare.mode === 'side' ? [original, a, b] : [a.image ? a : original, b]}
        split={compare.split}
        onSplit={(split) => setCompare({ split })}
        gain={compare.diffGain}
      />
    </div>
  );
}

/** Picks the model for slot A or B; runs it on the image when its result is missing. */
function ModelSlot({ slot, source, scale }: { slot: 'a' | 'b'; source: ImageRef; scale: number }) {
  const client = useClient();
  const models = useModels((s) => s.models);
  const modelId = useUi((s) => s.compare[slot]);
  const setCompare = useUi((s) => s.setCompare);
  const job = useJobs((s) => {
    for (let i = s.order.length - 1; i >= 0; i--) {
      const e = s.jobs[s.order[i]!]!;
      if (e.request?.kind === 'upscale' && e.request.req.imageId === source.id && e.request.req.modelId === modelId && e.request.req.scale === scale) return e;
    }
    return undefined;
  });
  const have = !!job?.upscale;
  const run = async () => {
    if (!modelId) return;
    const req = { imageId: source.id, modelId, scale };
    try {
      useJobs.getState().track(await client.startUpscale(req), { kind: 'upscale', req });
    } catch (e) {
      reportError(e);
    }
  };
  const name = slot.toUpperCase();
  return (
    <span className="slot">
      <label className="field inline">
        <span>Model {name}</span>
        <select aria-label={`Model ${name}`} value={modelId ?? ''} onChange={(e) => setCompare({ [slot]: e.target.value || undefined })}>
          <option value="">—</option>
          {models.map((m) => <option key={m.id} value={m.id}>{m.label}</option>)}
        </select>
      </label>
      {modelId && !have && (isActive(job)
        ? <span className="muted small" role="status">{job?.progress ? `${job.progress.done}/${job.progress.total} tiles` : 'running…'}</span>
        : <button type="button" onClick={() => void run()} aria-label={`Run model ${name}`}>Run</button>)}
    </span>
  );
}

/** The shared-view viewer: split, side by side or difference; wheel/keys zoom, drag pans. */
function Viewer({ out, mode, columns, split, onSplit, gain }: {
  out: Size; mode: CompareMode; columns: Column[]; split: number; onSplit(v: number): void; gain: number;
}) {
  const box = useRef<HTMLDivElement>(null);
  const [vp, setVp] = useState<Size>({ width: 0, height: 0 });
  const [view, setView] = useState<ViewState>();
  const outKey = `${out.width}x${out.height}`;

  useLayoutEffect(() => {
    const el = box.current!;
    const measure = () => setVp((p) => (p.width === el.clientWidth && p.height === el.clientHeight ? p : { width: el.clientWidth, height: el.clientHeight }));
    measure();
    if (typeof ResizeObserver !== 'function') return;
    const ro = new ResizeObserver(measure);
    ro.observe(el);
    return () => ro.disconnect();
  }, []);

  const paneVp: Size = mode === 'side' ? { width: vp.width / columns.length, height: vp.height } : vp;
  const ready = paneVp.width > 0 && paneVp.height > 0;
  // A new image size or a fresh mount starts fitted.
  useEffect(() => {
    if (ready) setView(fitView(paneVp, out));
  }, [outKey, ready, mode]); // eslint-disable-line react-hooks/exhaustive-deps

  const zoomBy = (f: number) => view && setView(zoomAt(view, f, paneVp.width / 2, paneVp.height / 2, paneVp, out));
  useCommand('zoom-in', () => zoomBy(1.5));
  useCommand('zoom-out', () => zoomBy(1 / 1.5));
  useCommand('zoom-fit', () => ready && setView(fitView(paneVp, out)));

  // Wheel zoom needs a non-passive listener to keep the page from scrolling.
  const latest = useRef({ view, paneVp, out });
  latest.current = { view, paneVp, out };
  useEffect(() => {
    const el = box.current!;
    const onWheel = (e: WheelEvent) => {
      const { view: v, paneVp: p, out: o } = latest.current;
      if (!v) return;
      e.preventDefault();
      const r = el.getBoundingClientRect();
      const x = (e.clientX - r.left) % p.width;
      setView(zoomAt(v, Math.pow(1.0015, -e.deltaY), x, e.clientY - r.top, p, o));
    };
    el.addEventListener('wheel', onWheel, { passive: false });
    return () => el.removeEventListener('wheel', onWheel);
  }, []);

  const drag = useRef<{ x: number; y: number; what: 'pan' | 'split' } | null>(null);
  const onPointerDown = (e: React.PointerEvent) => {
    const onHandle = (e.target as HTMLElement).closest('.split-handle');
    drag.current = { x: e.clientX, y: e.clientY, what: onHandle ? 'split' : 'pan' };
    (e.currentTarget as HTMLElement).setPointerCapture?.(e.pointerId);
  };
  const onPointerMove = (e: React.PointerEvent) => {
    const d = drag.current;
    if (!d || !view) return;
    if (d.what === 'split') {
      const r = box.current!.getBoundingClientRect();
      onSplit(Math.min(1, Math.max(0, (e.clientX - r.left) / Math.max(1, r.width))));
    } else {
      setView(panBy(view, e.clientX - d.x, e.clientY - d.y, paneVp, out));
      drag.current = { ...d, x: e.clientX, y: e.clientY };
    }
  };
  const onPointerUp = () => {
    drag.current = null;
  };

  const percent = view ? Math.round(view.zoom * 100) : 0;
  return (
    <div className="viewer-wrap">
      <div
        ref={box}
        className={`viewer mode-${mode}`}
        data-testid="compare-viewer"
        tabIndex={0}
        aria-label="Comparison viewer: drag to pan, wheel or +/− to zoom, 0 to fit"
        onPointerDown={onPointerDown}
        onPointerMove={onPointerMove}
        onPointerUp={onPointerUp}
        onPointerCancel={onPointerUp}
        onDoubleClick={() => ready && setView(fitView(paneVp, out))}
      >
        {view && ready && mode === 'side' && columns.map((c, i) => (
          <div key={c.key} className="side-cell" style={{ left: i * paneVp.width, width: paneVp.width }}>
            {c.image ? <Pane key={c.image.imageId} image={c.image} out={out} view={view} viewport={paneVp} label={c.title} /> : <Missing column={c} />}
            <PaneLabel column={c} />
          </div>
        ))}
        {view && ready && mode === 'split' && (
          <>
            {columns[0]!.image ? <Pane key={columns[0]!.image.imageId} image={columns[0]!.image} out={out} view={view} viewport={vp} label={columns[0]!.title} /> : <Missing column={columns[0]!} />}
            {columns[1]!.image ? (
              <Pane key={columns[1]!.image.imageId} image={columns[1]!.image} out={out} view={view} viewport={vp} label={columns[1]!.title}
                style={{ clipPath: `inset(0 0 0 ${split * 100}%)` }} />
            ) : (
              <div className="missing-right" style={{ left: `${split * 100}%` }}>
                <Missing column={columns[1]!} />
              </div>
            )}
            <PaneLabel column={columns[0]!} />
            <PaneLabel column={columns[1]!} right />
            <div
              className="split-handle"
              role="slider"
              tabIndex={0}
              aria-label="Split position"
              aria-valuemin={0}
              aria-valuemax={100}
              aria-valuenow={Math.round(split * 100)}
              style={{ left: `${split * 100}%` }}
              onKeyDown={(e) => {
                const step = e.shiftKey ? 0.1 : 0.02;
                if (e.key === 'ArrowLeft') onSplit(Math.max(0, split - step));
                else if (e.key === 'ArrowRight') onSplit(Math.min(1, split + step));
                else return;
                e.preventDefault();
                e.stopPropagation();
              }}
            />
          </>
        )}
        {view && ready && mode === 'diff' && (
          columns[0]!.image && columns[1]!.image ? (
            <div className="diff" style={{ filter: `brightness(${gain})` }}>
              <Pane key={`a-${columns[0]!.image.imageId}`} image={columns[0]!.image} out={out} view={view} viewport={vp} label={columns[0]!.title} />
              <Pane key={`b-${columns[1]!.image.imageId}`} image={columns[1]!.image} out={out} view={view} viewport={vp} label={columns[1]!.title} className="blend-difference" />
            </div>
          ) : <div className="missing">Choose and run models A and B to see their difference</div>
        )}
        {mode === 'diff' && <div className="pane-label">|{columns[0]!.title} − {columns[1]!.title}| × {gain}</div>}
      </div>
      <div className="viewer-status">
        <span>{out.width}×{out.height}</span>
        <span data-testid="zoom-level">{percent}%</span>
        <button type="button" className="ghost" onClick={() => zoomBy(1 / 1.5)} aria-label="Zoom out">−</button>
        <button type="button" className="ghost" onClick={() => ready && setView(fitView(paneVp, out))} aria-label="Fit to window">Fit</button>
        <button type="button" className="ghost" onClick={() => view && setView(clampView({ ...view, zoom: 1 }, paneVp, out))} aria-label="Actual pixels">1:1</button>
        <button type="button" className="ghost" onClick={() => zoomBy(1.5)} aria-label="Zoom in">+</button>
      </div>
    </div>
  );
}

function PaneLabel({ column, right }: { column: Column; right?: boolean }) {
  const r = column.result;
  return (
    <div className={`pane-label${right ? ' right' : ''}`} data-testid={`pane-label-${column.key}`}>
      <strong>{column.title}</strong>
      {r && <span> · {formatMillis(r.millis)} on {r.ep}{r.passes > 1 ? ` · ${r.passes} passes` : ''}</span>}
    </div>
  );
}

function Missing({ column }: { column: Column }) {
  const state = column.running ? 'running…' : column.chosen ? 'not run yet' : 'choose a model';
  return <div className="missing" role="status">{column.title}: {state}</div>;
}
