import { useEffect, useState } from 'react';
import type { DirListing, EngineClient } from '../api/client';
import { useClient } from '../app/client-context';

/**
 * Web mode's stand-in for native dialogs: walks the folders the server allows (browse()) and
 * returns a folder, or the images ticked in one.
 */
export function PathBrowser({
  mode,
  title,
  onChoose,
  onClose,
}: {
  mode: 'folder' | 'files';
  title: string;
  onChoose(paths: string[]): void;
  onClose(): void;
}) {
  const client = useClient();
  const [listing, setListing] = useState<DirListing>();
  const [error, setError] = useState<string>();
  const [ticked, setTicked] = useState<Set<string>>(new Set());

  const open = (path?: string) => {
    setTicked(new Set());
    browse(client, path).then(
      (l) => {
        setListing(l);
        setError(undefined);
      },
      (e: Error) => setError(e.message),
    );
  };
  // The allowed folders, once; a listing that arrives after the dialog closed is dropped.
  useEffect(() => {
    let live = true;
    browse(client).then(
      (l) => {
        if (live) setListing(l);
      },
      (e: Error) => {
        if (live) setError(e.message);
      },
    );
    return () => {
      live = false;
    };
  }, [client]);

  useEffect(() => {
    const onKey = (e: KeyboardEvent) => {
      if (e.key === 'Escape') {
        e.preventDefault();
        onClose();
      }
    };
    window.addEventListener('keydown', onKey, true);
    return () => window.removeEventListener('keydown', onKey, true);
  }, [onClose]);

  const entries = listing?.entries.filter((e) => e.kind === 'dir' || mode === 'files') ?? [];
  return (
    <div className="modal-backdrop">
      <div className="modal" role="dialog" aria-modal="true" aria-label={title}>
        <header>
          <h2>{title}</h2>
          <div className="crumb" data-testid="browse-path">
            {listing?.path ?? 'Allowed folders'}
          </div>
        </header>
        {error && (
          <p role="alert" className="error">
            {error}
          </p>
        )}
        <ul className="browse-list" aria-label="Folder contents">
          {listing?.path !== null && listing && (
            <li>
              <button type="button" className="ghost" onClick={() => open(listing.parent ?? undefined)} aria-label="Up one folder">
                ↰ ..
              </button>
            </li>
          )}
          {entries.map((e) => (
            <li key={e.path}>
              {e.kind === 'dir' ? (
                <button type="button" className="ghost" onClick={() => open(e.path)} aria-label={`Open folder ${e.name}`}>
                  📁 {e.name}
                </button>
              ) : (
                <label className="check">
                  <input
                    type="checkbox"
                    aria-label={e.name}
                    checked={ticked.has(e.path)}
                    onChange={(ev) => {
                      const next = new Set(ticked);
                      if (ev.target.checked) next.add(e.path);
                      else next.delete(e.path);
                      setTicked(next);
                    }}
                  />
                  🖼 {e.name}
                </label>
              )}
            </li>
          ))}
          {listing && entries.length === 0 && <li className="muted">Nothing here.</li>}
        </ul>
        <footer className="actions">
          <button type="button" onClick={onClose}>
            Cancel
          </button>
          {mode === 'folder' ? (
            <button type="button" className="primary" disabled={!listing?.path} onClick={() => onChoose([listing!.path!])}>
              Choose this folder
            </button>
          ) : (
            <button type="button" className="primary" disabled={ticked.size === 0} onClick={() => onChoose([...ticked])}>
              Choose {ticked.size || ''} image{ticked.size === 1 ? '' : 's'}
            </button>
          )}
        </footer>
      </div>
    </div>
  );
}

/** No argument at all for the roots: a transport may not carry `undefined`. */
function browse(client: EngineClient, path?: string): Promise<DirListing> {
  return path === undefined ? client.browse() : client.browse(path);
}

/** Asks for a folder or files: the native dialog in Electron, the PathBrowser in web mode. */
export function usePathPicker() {
  const client = useClient();
  const [pending, setPending] = useState<{ mode: 'folder' | 'files'; title: string; resolve(p: string[]): void }>();
  const pick = (mode: 'folder' | 'files', title: string): Promise<string[]> => {
    if (client.dialogs) {
      return mode === 'folder' ? client.dialogs.openFolder().then((p) => (p ? [p] : [])) : client.dialogs.openFiles();
    }
    return new Promise((resolve) => setPending({ mode, title, resolve }));
  };
  const dialog = pending && (
    <PathBrowser
      mode={pending.mode}
      title={pending.title}
      onChoose={(p) => {
        pending.resolve(p);
        setPending(undefined);
      }}
      onClose={() => {
        pending.resolve([]);
        setPending(undefined);
      }}
    />
  );
  return { pick, dialog };
}
