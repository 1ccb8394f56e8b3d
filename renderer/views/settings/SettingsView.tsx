import type { EpChoice, Settings } from '../../api/client';
import { useClient } from '../../app/client-context';
import { ClearHistory } from '../../components/Recent';
import { useSettings } from '../../state/settings';
import { ImportModel } from './ImportModel';
import { QueueSettings } from './QueueSettings';

const EP_LABELS: Record<string, string> = {
  cpu: 'CPU',
  cuda: 'NVIDIA GPU (CUDA)',
  dml: 'GPU (DirectML)',
  coreml: 'Apple (Core ML)',
  webgpu: 'GPU (WebGPU)',
};

export function SettingsView() {
  const client = useClient();
  const { settings, system, error } = useSettings();
  if (!settings)
    return (
      <p className={error ? 'error' : 'muted'} role={error ? 'alert' : 'status'}>
        {error ?? 'Loading settings…'}
      </p>
    );
  const set = (patch: Partial<Settings>) => void useSettings.getState().update(client, patch);
  const providers = system?.providers ?? [];
  return (
    <form className="settings" aria-label="Settings" onSubmit={(e) => e.preventDefault()}>
      {error && (
        <p role="alert" className="error">
          {error}
        </p>
      )}
      <fieldset>
        <legend>Execution</legend>
        <label className="field">
          <span>Execution provider</span>
          <select aria-label="Execution provider" value={settings.ep} onChange={(e) => set({ ep: e.target.value as EpChoice })}>
            <option value="auto">Automatic (fastest available)</option>
            {providers.map((p) => (
              <option key={p.name} value={p.name} disabled={!p.available} title={p.reason}>
                {EP_LABELS[p.name] ?? p.name}
                {p.available ? '' : ` — unavailable${p.reason ? `: ${p.reason}` : ''}`}
              </option>
            ))}
          </select>
        </label>
        <label className="field">
          <span>Tile size (input pixels, 0 = automatic)</span>
          <input
            type="number"
            min={0}
            step={16}
            aria-label="Tile size"
            value={settings.tile}
            onChange={(e) => set({ tile: Math.max(0, Math.round(Number(e.target.value))) })}
          />
        </label>
        <label className="field">
          <span>Threads (0 = all {system?.cpus ?? ''} cores)</span>
          <input
            type="number"
            min={0}
            max={system?.cpus ?? 256}
            aria-label="Threads"
            value={settings.threads}
            onChange={(e) => set({ threads: Math.max(0, Math.round(Number(e.target.value))) })}
          />
        </label>
      </fieldset>
      <fieldset>
        <legend>Output</legend>
        <label className="check">
          <input
            type="checkbox"
            aria-label="Keep metadata"
            checked={settings.keepMetadata}
            onChange={(e) => set({ keepMetadata: e.target.checked })}
          />
          <span>Keep metadata (EXIF, ICC profile)</span>
        </label>
        <label className="field">
          <span>Output file names</span>
          <input
            type="text"
            aria-label="Output naming template"
            value={settings.nameTemplate}
            spellCheck={false}
            onChange={(e) => set({ nameTemplate: e.target.value })}
          />
          <small className="muted">
            {'{name}'} source name · {'{model}'} model id · {'{scale}'} · {'{ext}'}
          </small>
        </label>
      </fieldset>
      <ImportModel />
      <ClearHistory />
      <QueueSettings saved={settings.queueUrl} />
      <fieldset>
        <legend>Appearance</legend>
        <div role="radiogroup" aria-label="Theme" className="segmented">
          {(['system', 'light', 'dark'] as const).map((t) => (
            <label key={t} className={settings.theme === t ? 'selected' : ''}>
              <input type="radio" name="theme" value={t} checked={settings.theme === t} onChange={() => set({ theme: t })} />
              {t === 'system' ? 'Follow system' : t === 'light' ? 'Light' : 'Dark'}
            </label>
          ))}
        </div>
      </fieldset>
      {system && (
        <p className="muted small">
          MiniSR {system.version} · {system.platform} · {system.cpus} cores · providers:{' '}
          {providers
            .filter((p) => p.available)
            .map((p) => p.name)
            .join(', ') || 'none'}
        </p>
      )}
    </form>
  );
}
