/**
 * Compare-view geometry. All panes share one view: `zoom` (screen pixels per output pixel) and
 * the output pixel at the viewport's centre. Each pane fetches only the rectangle it shows, at
 * the resolution it shows it, snapped to a grid so small pans reuse cached bitmaps.
 */
export interface ViewState {
  readonly zoom: number;
  readonly cx: number;
  readonly cy: number;
}

export interface Size {
  readonly width: number;
  readonly height: number;
}

export interface Rect {
  readonly left: number;
  readonly top: number;
  readonly width: number;
  readonly height: number;
}

/** Deepest zoom: 32 screen pixels per output pixel is enough to read single pixels. */
export const MAX_ZOOM = 32;

export const fitZoom = (vp: Size, img: Size) => Math.min(vp.width / img.width, vp.height / img.height);

export function fitView(vp: Size, img: Size): ViewState {
  return { zoom: fitZoom(vp, img), cx: img.width / 2, cy: img.height / 2 };
}

export function clampView(v: ViewState, vp: Size, img: Size): ViewState {
  const zoom = Math.min(MAX_ZOOM, Math.max(fitZoom(vp, img) / 4, v.zoom));
  // Keep at least the centre inside the image so it can't be panned away.
  return { zoom, cx: Math.min(img.width, Math.max(0, v.cx)), cy: Math.min(img.height, Math.max(0, v.cy)) };
}

/** Zooms by `factor` keeping the output pixel under the viewport point (px, py) still. */
export function zoomAt(v: ViewState, factor: number, px: number, py: number, vp: Size, img: Size): ViewState {
  const next = clampView({ ...v, zoom: v.zoom * factor }, vp, img);
  const ix = v.cx + (px - vp.width / 2) / v.zoom;
  const iy = v.cy + (py - vp.height / 2) / v.zoom;
  return clampView({ zoom: next.zoom, cx: ix - (px - vp.width / 2) / next.zoom, cy: iy - (py - vp.height / 2) / next.zoom }, vp, img);
}

export const panBy = (v: ViewState, dx: number, dy: number, vp: Size, img: Size): ViewState =>
  clampView({ ...v, cx: v.cx - dx / v.zoom, cy: v.cy - dy / v.zoom }, vp, img);

/** The CSS transform placing output pixel (0,0) for this view. */
export function stageTransform(v: ViewState, vp: Size): string {
  const tx = vp.width / 2 - v.cx * v.zoom;
  const ty = vp.height / 2 - v.cy * v.zoom;
  return `translate(${tx}px, ${ty}px) scale(${v.zoom})`;
}

/** Output pixels visible in the viewport, clamped to the image; null when none are. */
export function visibleRect(v: ViewState, vp: Size, img: Size): Rect | null {
  const l = Math.max(0, v.cx - vp.width / 2 / v.zoom);
  const t = Math.max(0, v.cy - vp.height / 2 / v.zoom);
  const r = Math.min(img.width, v.cx + vp.width / 2 / v.zoom);
  const b = Math.min(img.height, v.cy + vp.height / 2 / v.zoom);
  if (r <= l || b <= t) return null;
  return { left: l, top: t, width: r - l, height: b - t };
}

/**
 * What one pane asks for: the visible output rectangle mapped into the pane image's own pixels
 * (`factor` output pixels per own pixel: the scale for the original, 1 for model outputs),
 * widened to a grid of about 128 screen pixels, and the longest side to fetch it at.
 */
export interface RegionPlan {
  /** In the pane image's own pixels. */
  readonly own: Rect;
  /** The same rectangle in output pixels (where to draw it). */
  readonly out: Rect;
  readonly maxSide: number;
  /** Whether the server should upscale the original (only worth it when shown enlarged). */
  readonly resample: boolean;
}

export function planRegion(v: ViewState, vp: Size, out: Size, factor: number, dpr = 1): RegionPlan | null {
  const vis = visibleRect(v, vp, out);
  if (!vis) return null;
  const own = { width: Math.round(out.width / factor), height: Math.round(out.height / factor) };
  // Grid in own pixels: a power of two near 128 screen pixels, so nearby views share requests.
  const screenPerOwn = v.zoom * factor;
  const grid = 2 ** Math.max(0, Math.round(Math.log2(128 / screenPerOwn)));
  const left = Math.floor(vis.left / factor / grid) * grid;
  const top = Math.floor(vis.top / factor / grid) * grid;
  const right = Math.min(own.width, Math.ceil((vis.left + vis.width) / factor / grid) * grid);
  const bottom = Math.min(own.height, Math.ceil((vis.top + vis.height) / factor / grid) * grid);
  const rect = { left, top, width: right - left, height: bottom - top };
  const resample = factor > 1 && v.zoom >= 0.5;
  const fullSide = Math.max(rect.width, rect.height) * (resample ? factor : 1);
  const shownSide = Math.max(rect.width, rect.height) * screenPerOwn * dpr;
  // Round up to quarter steps of a power of two (cache reuse across small zoom steps, at most
  // 25% extra pixels per side), never beyond full size.
  const step = 2 ** (Math.floor(Math.log2(Math.max(16, shownSide))) - 2);
  const maxSide = Math.min(fullSide, Math.ceil(shownSide / step) * step);
  return {
    own: rect,
    out: { left: left * factor, top: top * factor, width: rect.width * factor, height: rect.height * factor },
    maxSide: Math.max(1, Math.round(maxSide)),
    resample,
  };
}

/** Side of the cheap whole-image preview shown under the sharp region while it loads. */
export const PREVIEW_SIDE = 512;
