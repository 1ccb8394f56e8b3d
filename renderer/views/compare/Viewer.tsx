import { useEffect, useEffectEvent, useLayoutEffect, useRef, useState } from 'react';
import type { UpscaleResult } from '../../api/client';
import { useCommand } from '../../app/commands';
import { formatMillis } from '../../format';
import type { CompareMode } from '../../state/ui';
import { clampView, fitView, panBy, zoomAt, type Size, type ViewState } from './geometry';
import { Pane, type PaneImage } from './Pane';

/** One picture the viewer can show: the bicubic original or model A/B's result. */
export interface Column {
  readonly key: 'original' | 'a' | 'b';
  readonly title: string;
  readonly image?: PaneImage;
  readonly result?: UpscaleResult;
  /** Its upscale is queued or running. */
  readonly running?: boolean;
  /** A model has been picked for this slot. */
  readonly chosen?: boolean;
}

interface ViewerProps {
  out: Size;
  mode: CompareMode;
  columns: Column[];
  split: number;
  onSplit(v: number): void;
  gain: number;
}

/** The shared-view viewer: split, side by side or difference; wheel/keys zoom, drag pans. */
export function Viewer(props: ViewerProps) {
  // A new image size or mode starts a fresh viewer, fitted, rather than resetting its view in an effect.
  return <ViewerBody key={`${props.out.width}x${props.out.height} ${props.mode}`} {...props} />;
}

function ViewerBody({ out, mode, columns, split, onSplit, gain }: ViewerProps) {
  const box = useRef<HTMLDivElement>(null);
  const [vp, setVp] = useState<Size>({ width: 0, height: 0 });
  /** Where the user zoomed or panned to; until then (or after Fit) the view follows the fitted one. */
  const [moved, setView] = useState<ViewState>();

  useLayoutEffect(() => {
    const el = box.current!;
    const measure = () =>
      setVp((p) => (p.width === el.clientWidth && p.height === el.clientHeight ? p : { width: el.clientWidth, height: el.clientHeight }));
    measure();
    if (typeof ResizeObserver !== 'function') return;
    const ro = new ResizeObserver(measure);
    ro.observe(el);
    return () => ro.disconnect();
  }, []);

  const paneVp: Size = mode === 'side' ? { width: vp.width / columns.length, height: vp.height } : vp;
  const ready = paneVp.width > 0 && paneVp.height > 0;
  const view = ready ? (moved ?? fitView(paneVp, out)) : undefined;
  const fit = () => setView(undefined);

  const zoomBy = (f: number) => view && setView(zoomAt(view, f, paneVp.width / 2, paneVp.height / 2, paneVp, out));
  useCommand('zoom-in', () => zoomBy(1.5));
  useCommand('zoom-out', () => zoomBy(1 / 1.5));
  useCommand('zoom-fit', fit);

  // Wheel zoom needs a non-passive listener to keep the page from scrolling; it is added once and
  // reads the current view through an effect event.
  const onWheel = useEffectEvent((e: WheelEvent, el: HTMLElement) => {
    if (!view) return;
    e.preventDefault();
    const r = el.getBoundingClientRect();
    const x = (e.clientX - r.left) % paneVp.width;
    setView(zoomAt(view, Math.pow(1.0015, -e.deltaY), x, e.clientY - r.top, paneVp, out));
  });
  useEffect(() => {
    const el = box.current!;
    const listener = (e: WheelEvent) => onWheel(e, el);
    el.addEventListener('wheel', listener, { passive: false });
    return () => el.removeEventListener('wheel', listener);
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
        onDoubleClick={fit}
      >
        {view &&
          ready &&
          mode === 'side' &&
          columns.map((c, i) => (
            <div key={c.key} className="side-cell" style={{ left: i * paneVp.width, width: paneVp.width }}>
              {c.image ? (
                <Pane key={c.image.imageId} image={c.image} out={out} view={view} viewport={paneVp} label={c.title} />
              ) : (
                <Missing column={c} />
              )}
              <PaneLabel column={c} />
            </div>
          ))}
        {view && ready && mode === 'split' && (
          <>
            {columns[0]!.image ? (
              <Pane
                key={columns[0]!.image.imageId}
                image={columns[0]!.image}
                out={out}
                view={view}
                viewport={vp}
                label={columns[0]!.title}
              />
            ) : (
              <Missing column={columns[0]!} />
            )}
            {columns[1]!.image ? (
              <Pane
                key={columns[1]!.image.imageId}
                image={columns[1]!.image}
                out={out}
                view={view}
                viewport={vp}
                label={columns[1]!.title}
                style={{ clipPath: `inset(0 0 0 ${split * 100}%)` }}
              />
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
        {view &&
          ready &&
          mode === 'diff' &&
          (columns[0]!.image && columns[1]!.image ? (
            <div className="diff" style={{ filter: `brightness(${gain})` }}>
              <Pane
                key={`a-${columns[0]!.image.imageId}`}
                image={columns[0]!.image}
                out={out}
                view={view}
                viewport={vp}
                label={columns[0]!.title}
              />
              <Pane
                key={`b-${columns[1]!.image.imageId}`}
                image={columns[1]!.image}
                out={out}
                view={view}
                viewport={vp}
                label={columns[1]!.title}
                className="blend-difference"
              />
            </div>
          ) : (
            <div className="missing">Choose and run models A and B to see their difference</div>
          ))}
        {mode === 'diff' && (
          <div className="pane-label">
            |{columns[0]!.title} − {columns[1]!.title}| × {gain}
          </div>
        )}
      </div>
      <div className="viewer-status">
        <span>
          {out.width}×{out.height}
        </span>
        <span data-testid="zoom-level">{percent}%</span>
        <button type="button" className="ghost" onClick={() => zoomBy(1 / 1.5)} aria-label="Zoom out">
          −
        </button>
        <button type="button" className="ghost" onClick={fit} aria-label="Fit to window">
          Fit
        </button>
        <button
          type="button"
          className="ghost"
          onClick={() => view && setView(clampView({ ...view, zoom: 1 }, paneVp, out))}
          aria-label="Actual pixels"
        >
          1:1
        </button>
        <button type="button" className="ghost" onClick={() => zoomBy(1.5)} aria-label="Zoom in">
          +
        </button>
      </div>
    </div>
  );
}

function PaneLabel({ column, right }: { column: Column; right?: boolean }) {
  const r = column.result;
  return (
    <div className={`pane-label${right ? ' right' : ''}`} data-testid={`pane-label-${column.key}`}>
      <strong>{column.title}</strong>
      {r && (
        <span>
          {' '}
          · {formatMillis(r.millis)} on {r.ep}
        </span>
      )}
    </div>
  );
}

function Missing({ column }: { column: Column }) {
  const state = column.running ? 'running…' : column.chosen ? 'not run yet' : 'choose a model';
  return (
    <div className="missing" role="status">
      {column.title}: {state}
    </div>
  );
}
