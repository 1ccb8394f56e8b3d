import type { ReactNode } from 'react';
import type { ModelInfo } from '../api/client';
import { formatCount } from '../format';
import { passLabel } from './scales';

/** GFLOPs per megapixel of input, from either figure the model card carries. */
export function gflopsPerMp(m: ModelInfo): number | undefined {
  if (m.gflopsPerMegapixel !== undefined) return m.gflopsPerMegapixel;
  if (m.gflops640x360 !== undefined) return m.gflops640x360 / (0.64 * 0.36);
  return undefined;
}

export function ModelFacts({ model }: { model: ModelInfo }) {
  const g = gflopsPerMp(model);
  const psnr = model.psnr && Object.entries(model.psnr)[0];
  return (
    <span className="model-facts">
      <span title="parameters">{formatCount(model.params)} params</span>
      {g !== undefined && <span title="GFLOPs per megapixel of input">{g.toFixed(g >= 100 ? 0 : 1)} GFLOPs/MP</span>}
      <span title="measured CPU speed on this machine">
        {model.cpuMegapixelsPerSec !== undefined ? `${model.cpuMegapixelsPerSec.toFixed(2)} MP/s` : 'speed not measured'}
      </span>
      {psnr && (
        <span title={`PSNR-Y on ${psnr[0]}`}>
          {psnr[1].toFixed(2)} dB {psnr[0]}
        </span>
      )}
    </span>
  );
}

/** How a model reaches `scale` above x2 ("native x4", "2 × x2"), for the pickers' labels. */
const passNote = (m: ModelInfo, scale?: number) => (scale && m.scale >= 2 ? passLabel(scale, m.scale) : undefined);

/** Radio list of models with their size, cost and measured speed (and, given `scale`, how each reaches it). */
export function ModelPicker({
  models,
  value,
  onChange,
  label = 'Model',
  scale,
}: {
  models: readonly ModelInfo[];
  value: string | undefined;
  onChange(id: string): void;
  label?: string;
  scale?: number;
}) {
  if (models.length === 0) return <p className="muted">No models available.</p>;
  return (
    <div role="radiogroup" aria-label={label} className="model-list">
      {models.map((m) => (
        <label key={m.id} className={`model-card${m.id === value ? ' selected' : ''}`}>
          <input type="radio" name={label} value={m.id} checked={m.id === value} onChange={() => onChange(m.id)} aria-label={m.label} />
          <span className="model-name">
            {m.label}
            {m.compact && <span className="badge">compact</span>}
            {m.source === 'user' && <span className="badge">yours</span>}
            {passNote(m, scale) && <span className="badge">{passNote(m, scale)}</span>}
          </span>
          {m.description && <span className="model-description muted">{m.description}</span>}
          <ModelFacts model={m} />
        </label>
      ))}
    </div>
  );
}

/**
 * The same models as a compact `<select>` (forms, toolbars): `placeholder` adds an empty first
 * option, `children` options after the models (e.g. "Import a file…"), `scale` how each reaches it.
 */
export function ModelSelect({
  models,
  value,
  onChange,
  ariaLabel,
  placeholder,
  scale,
  children,
}: {
  models: readonly ModelInfo[];
  value: string | undefined;
  onChange(id: string): void;
  ariaLabel: string;
  placeholder?: string;
  scale?: number;
  children?: ReactNode;
}) {
  return (
    <select aria-label={ariaLabel} value={value ?? ''} onChange={(e) => onChange(e.target.value)}>
      {placeholder !== undefined && <option value="">{placeholder}</option>}
      {models.map((m) => (
        <option key={m.id} value={m.id} title={m.description}>
          {m.label}
          {passNote(m, scale) ? ` (${passNote(m, scale)})` : ''}
        </option>
      ))}
      {children}
    </select>
  );
}
