import { useMemo } from 'react';
import { useClient } from '../../app/client-context';
import { useCommand } from '../../app/commands';
import { outputFormat, outputName, saveOutput } from '../../app/save';
import { ScaleSelect } from '../../components/ScaleSelect';
import { offersScale, passLabel, reachableScales } from '../../components/scales';
import { useImages } from '../../state/images';
import { isActive, resultKey, resultsFor, upscaleJobFor, useJobs } from '../../state/jobs';
import { findModel, useModels } from '../../state/models';
import { useSettings } from '../../state/settings';
import { reportError, useUi, type CompareMode } from '../../state/ui';
import type { Size } from './geometry';
import { ModelSlot, runModels } from './ModelSlot';
import { nativePair } from './passes';
import { Viewer, type Column } from './Viewer';

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
  const save =
    saveTarget && source
      ? () =>
          void saveOutput(
            client,
            saveTarget.output,
            outputName(
              settings?.nameTemplate ?? '{name}_{model}_x{scale}.{ext}',
              source.name,
              saveTarget.modelId,
              saveTarget.scale,
              format,
            ),
            format,
            settings?.quality,
          )
      : undefined;
  useCommand('save', save);
  // Esc stops this comparison's upscales; Ctrl+Enter runs the chosen models still missing.
  const slotJobs = source ? [compare.a, compare.b].map((m) => upscaleJobFor(jobs, source.id, m, scale)) : [];
  const activeIds = slotJobs.filter(isActive).map((e) => e!.info.id);
  useCommand('cancel', activeIds.length ? () => activeIds.forEach((id) => void client.cancelJob(id).catch(reportError)) : undefined);
  const missing = source
    ? [...new Set([compare.a, compare.b])].filter(
        (m): m is string => !!m && !resultOf(m) && !isActive(upscaleJobFor(jobs, source.id, m, scale)),
      )
    : [];
  useCommand('run', source && missing.length ? () => void runModels(client, source.id, missing, scale) : undefined);

  // A scale with a native model (x4: edsr-mini-x4) puts it next to the x2 model run twice; slots that cannot reach a scale empty.
  const changeScale = (s: number) => {
    const pair = nativePair(models, s);
    const hasNative = [compare.a, compare.b].some((id) => s > 2 && findModel(models, id)?.scale === s);
    const fits = (id?: string) => {
      const m = findModel(models, id);
      return !m || offersScale(m, s) ? id : undefined;
    };
    setCompare(
      pair && !hasNative
        ? { scale: s, a: pair.twoPass, b: pair.native, splitLeft: 'a' }
        : { scale: s, a: fits(compare.a), b: fits(compare.b) },
    );
  };

  if (!source) {
    return <p className="muted empty">Open an image in the Upscale view (1) and run a model to compare results here.</p>;
  }
  const out: Size = { width: source.width * scale, height: source.height * scale };
  const col = (key: 'a' | 'b'): Column => {
    const modelId = compare[key];
    const result = resultOf(modelId);
    const model = findModel(models, modelId);
    const how = model && passLabel(scale, model.scale, result?.passes);
    const title = `${model?.label ?? modelId ?? (key === 'a' ? 'Model A' : 'Model B')}${how ? ` · ${how}` : ''}`;
    const running = !result && isActive(upscaleJobFor(jobs, source.id, modelId, scale));
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
            {order.map((id) => (
              <option key={id} value={id}>
                {images[id]!.name}
              </option>
            ))}
          </select>
        </label>
        <label className="field inline">
          <span>Scale</span>
          <ScaleSelect label="Compared scale" value={scale} onChange={changeScale} scales={reachableScales(models)} plain />
        </label>
        {(['a', 'b'] as const).map((k) => (
          <ModelSlot key={k} slot={k} source={source} scale={scale} />
        ))}
        <div role="radiogroup" aria-label="Compare mode" className="segmented">
          {(
            [
              ['split', 'Split'],
              ['side', 'Side by side'],
              ['diff', 'Difference'],
            ] as [CompareMode, string][]
          ).map(([m, t]) => (
            <label key={m} className={compare.mode === m ? 'selected' : ''}>
              <input type="radio" name="compare-mode" checked={compare.mode === m} onChange={() => setCompare({ mode: m })} />
              {t}
            </label>
          ))}
        </div>
        {compare.mode === 'split' && (
          <label className="field inline">
            <span>Left side</span>
            <select
              aria-label="Split left side"
              value={compare.splitLeft}
              onChange={(e) => setCompare({ splitLeft: e.target.value as 'original' | 'a' })}
            >
              <option value="original">Original</option>
              <option value="a">Model A</option>
            </select>
          </label>
        )}
        {compare.mode === 'diff' && (
          <label className="field inline">
            <span>Gain</span>
            <select
              aria-label="Difference gain"
              value={compare.diffGain}
              onChange={(e) => setCompare({ diffGain: Number(e.target.value) })}
            >
              {[1, 4, 8, 16, 32].map((g) => (
                <option key={g} value={g}>
                  ×{g}
                </option>
              ))}
            </select>
          </label>
        )}
        <button type="button" className="primary" disabled={!save} onClick={save} aria-label="Save compared result">
          Save…
        </button>
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
