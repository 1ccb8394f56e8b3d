import { useEffect, useState } from 'react';
import type { EngineClient } from '../api/client';
import { BatchView } from '../views/batch/BatchView';
import { CompareView } from '../views/compare/CompareView';
import { SettingsView } from '../views/settings/SettingsView';
import { UpscaleView } from '../views/upscale/UpscaleView';
import { WizardView } from '../views/wizard/WizardView';
import { connectEvents } from '../state/events';
import { isActive, useJobs } from '../state/jobs';
import { useModels } from '../state/models';
import { useSettings } from '../state/settings';
import { VIEWS, useUi, type View } from '../state/ui';
import { ClientProvider, useClient } from './client-context';
import { runCommand } from './commands';
import { openPaths } from './open-images';
import { SHORTCUT_HELP, useShortcuts } from './shortcuts';
import { useTheme } from './theme';

const TITLES: Record<View, string> = { upscale: 'Upscale', compare: 'Compare', batch: 'Batch', wizard: 'Wizard', settings: 'Settings' };
const ICONS: Record<View, string> = { upscale: '⤢', compare: '◧', batch: '☰', wizard: '⚗', settings: '⚙' };

/** `eventBatchMs`: how long job events gather before one store update (`connectEvents`). */
export function App({ client, eventBatchMs }: { client: EngineClient; eventBatchMs?: number }) {
  useEffect(() => {
    const offEvents = connectEvents(client, eventBatchMs);
    // Native menu items (Electron) do what the matching shortcut does.
    const offMenu = client.onMenu((action) => {
      if ('view' in action) useUi.getState().setView(action.view);
      else runCommand(action.command);
    });
    const offOpen = client.onOpen((paths) => void openPaths(client, paths));
    void useModels.getState().load(client);
    void useSettings.getState().load(client);
    return () => {
      offEvents();
      offMenu();
      offOpen();
    };
  }, [client, eventBatchMs]);
  return (
    <ClientProvider client={client}>
      <Shell />
    </ClientProvider>
  );
}

function Shell() {
  const view = useUi((s) => s.view);
  const setting = useSettings((s) => s.settings?.theme);
  const theme = useTheme(setting);
  useShortcuts();
  return (
    <div className="app">
      <Nav theme={theme} />
      <main className="content" aria-label={TITLES[view]}>
        {view === 'upscale' && <UpscaleView />}
        {view === 'compare' && <CompareView />}
        {view === 'batch' && <BatchView />}
        {view === 'wizard' && <WizardView />}
        {view === 'settings' && <SettingsView />}
      </main>
      <Notices />
    </div>
  );
}

function Nav({ theme }: { theme: 'light' | 'dark' }) {
  const view = useUi((s) => s.view);
  const setView = useUi((s) => s.setView);
  const busy = useJobs((s) => s.order.filter((id) => isActive(s.jobs[id])).length);
  const system = useSettings((s) => s.system);
  const [help, setHelp] = useState(false);
  const client = useClient();
  return (
    <nav className="nav" aria-label="Views">
      <div className="brand" aria-hidden>
        <span className="logo">◆</span> MiniSR
      </div>
      <div role="tablist" aria-orientation="vertical" aria-label="Views" className="tabs">
        {VIEWS.map((v, i) => (
          <button
            key={v}
            role="tab"
            aria-selected={v === view}
            aria-keyshortcuts={String(i + 1)}
            className={`tab${v === view ? ' active' : ''}`}
            onClick={() => setView(v)}
          >
            <span className="tab-icon" aria-hidden>
              {ICONS[v]}
            </span>
            {TITLES[v]}
            <kbd aria-hidden>{i + 1}</kbd>
          </button>
        ))}
      </div>
      <div className="nav-foot">
        {busy > 0 && (
          <div className="busy" role="status">
            {busy} job{busy > 1 ? 's' : ''} running
          </div>
        )}
        <button
          type="button"
          className="ghost"
          aria-label={`Switch to ${theme === 'dark' ? 'light' : 'dark'} theme`}
          onClick={() => void useSettings.getState().update(client, { theme: theme === 'dark' ? 'light' : 'dark' })}
        >
          {theme === 'dark' ? '☀ Light' : '☾ Dark'}
        </button>
        <button type="button" className="ghost" aria-expanded={help} aria-label="Keyboard shortcuts" onClick={() => setHelp(!help)}>
          ⌨ Shortcuts
        </button>
        {help && (
          <dl className="shortcut-help" aria-label="Keyboard shortcuts list">
            {SHORTCUT_HELP.map(([k, what]) => (
              <div key={k}>
                <dt>
                  <kbd>{k}</kbd>
                </dt>
                <dd>{what}</dd>
              </div>
            ))}
          </dl>
        )}
        {system && (
          <div className="muted small">
            v{system.version} · {system.transport === 'ipc' ? 'desktop' : 'web'}
          </div>
        )}
      </div>
    </nav>
  );
}

/** Info notices fade after a while; errors stay until dismissed. */
const INFO_MS = 6000;

function Notices() {
  const notices = useUi((s) => s.notices);
  const dismiss = useUi((s) => s.dismiss);
  const infoIds = notices
    .filter((n) => n.kind === 'info')
    .map((n) => n.id)
    .join(',');
  useEffect(() => {
    if (!infoIds) return;
    const timers = infoIds.split(',').map((id) => setTimeout(() => dismiss(Number(id)), INFO_MS));
    return () => timers.forEach(clearTimeout);
  }, [infoIds, dismiss]);
  return (
    <div className="notices" aria-live="polite">
      {notices.map((n) => (
        <div key={n.id} className={`notice ${n.kind}`} role={n.kind === 'error' ? 'alert' : 'status'}>
          <span>{n.text}</span>
          <button type="button" className="ghost" aria-label="Dismiss" onClick={() => dismiss(n.id)}>
            ×
          </button>
        </div>
      ))}
    </div>
  );
}
