import { useEffect, useEffectEvent, useMemo, useState, type CSSProperties } from 'react';
import type { ImageRegionQuery } from '../../api/client';
import { useClient } from '../../app/client-context';
import { PREVIEW_SIDE, planRegion, stageTransform, type Size, type ViewState } from './geometry';

/** A picture a pane shows: an image the engine holds, `factor` output pixels per own pixel. */
export interface PaneImage {
  readonly imageId: string;
  readonly factor: number;
}

const DEBOUNCE_MS = 120;

interface Loaded {
  readonly key: string;
  readonly url: string;
  readonly rect: { left: number; top: number; width: number; height: number };
}

/**
 * One layer of the compare viewer: a low-resolution preview of the whole image, and on top the
 * visible region fetched at display resolution once the view has been still for a moment. The
 * previous region stays until the next has loaded, so panning never flashes.
 */
export function Pane({
  image,
  out,
  view,
  viewport,
  style,
  className,
  label,
}: {
  image: PaneImage;
  out: Size;
  view: ViewState;
  viewport: Size;
  style?: CSSProperties;
  className?: string;
  label: string;
}) {
  const client = useClient();
  const dpr = typeof devicePixelRatio === 'number' ? devicePixelRatio : 1;
  const plan = useMemo(() => planRegion(view, viewport, out, image.factor, dpr), [view, viewport, out, image.factor, dpr]);
  const pixelExact = view.zoom >= 1;
  const query: ImageRegionQuery | undefined = plan
    ? {
        imageId: image.imageId,
        left: plan.own.left,
        top: plan.own.top,
        width: plan.own.width,
        height: plan.own.height,
        maxSide: plan.maxSide,
        ...(plan.resample ? { resample: { scale: image.factor, kernel: 'bicubic' as const } } : {}),
        ...(pixelExact ? { format: 'png' as const } : {}),
      }
    : undefined;
  const wantedKey = query ? JSON.stringify(query) : undefined;
  const [pending, setPending] = useState<Loaded>();
  const [shown, setShown] = useState<Loaded>();

  // Ask only once the view has settled: a zoom gesture passes through many sizes, each a new key.
  const ask = useEffectEvent(() => {
    if (!query || !plan || wantedKey === shown?.key || wantedKey === pending?.key) return;
    setPending({ key: wantedKey!, url: client.imageUrl(query), rect: plan.out });
  });
  useEffect(() => {
    const t = setTimeout(() => ask(), DEBOUNCE_MS);
    return () => clearTimeout(t);
  }, [wantedKey]);

  const preview = useMemo(() => client.imageUrl({ imageId: image.imageId, maxSide: PREVIEW_SIDE }), [client, image.imageId]);
  const pixelated = view.zoom >= 2 ? ' pixelated' : '';
  const place = (r: { left: number; top: number; width: number; height: number }): CSSProperties => ({
    left: r.left,
    top: r.top,
    width: r.width,
    height: r.height,
  });

  return (
    <div className={`pane${className ? ` ${className}` : ''}`} style={style} role="img" aria-label={label}>
      <div className="stage" style={{ width: out.width, height: out.height, transform: stageTransform(view, viewport) }}>
        <img className={`layer preview${pixelated}`} src={preview} alt="" draggable={false} style={place({ left: 0, top: 0, ...out })} />
        {shown && <img className={`layer region${pixelated}`} src={shown.url} alt="" draggable={false} style={place(shown.rect)} />}
        {pending && pending.key !== shown?.key && (
          <img
            className={`layer region loading${pixelated}`}
            src={pending.url}
            alt=""
            draggable={false}
            data-testid="region-loading"
            style={place(pending.rect)}
            onLoad={() => setShown(pending)}
          />
        )}
      </div>
    </div>
  );
}
