import { useRef, useState, type ReactNode } from 'react';
import { useClient } from '../../app/client-context';
import { useCommand } from '../../app/commands';
import { isModelFileName } from '../../../engine/api/types';
import { importDroppedModels, WEB_IMPORT_HINT } from '../../app/import-model';
import { importFiles, isImageFile, openPaths, splitDrop } from '../../app/open-images';
import { reportError, useUi } from '../../state/ui';

/** Accepts dropped files and folders, and opens the file picker (native dialog in Electron). */
export function DropZone({ children, compact }: { children?: ReactNode; compact?: boolean }) {
  const client = useClient();
  const input = useRef<HTMLInputElement>(null);
  const [over, setOver] = useState(false);

  const pick = () => {
    if (client.dialogs) {
      client.dialogs.openFiles().then((paths) => openPaths(client, paths), reportError);
    } else input.current?.click();
  };
  useCommand('open', pick);

  const onDrop = (e: React.DragEvent) => {
    e.preventDefault();
    setOver(false);
    if (client.openDropped) {
      // Desktop: files and folders by path; a folder goes straight into the batch.
      const dropped = Array.from(e.dataTransfer.files);
      client.openDropped(dropped).then(({ files, folders, models }) => {
        if (folders.length > 0) {
          const cur = useUi.getState().forms.batch.inputs;
          useUi.getState().setForm('batch', { inputs: [...cur, ...folders.filter((f) => !cur.includes(f))] });
          useUi.getState().setView('batch');
        }
        if (files.length > 0) void openPaths(client, files);
        if (models.length > 0) void importDroppedModels(client, models);
      }, reportError);
      return;
    }
    if (Array.from(e.dataTransfer.files).some((f) => isModelFileName(f.name))) useUi.getState().notify('info', WEB_IMPORT_HINT);
    const { files, folders } = splitDrop(e.dataTransfer);
    if (folders.length > 0) {
      useUi.getState().setDroppedFolder(folders.join(', '));
      useUi.getState().setView('batch');
    }
    if (files.length > 0) void importFiles(client, files);
  };

  return (
    <div
      className={`dropzone${over ? ' over' : ''}${compact ? ' compact' : ''}`}
      data-testid="dropzone"
      aria-label="Drop images or a folder here"
      role="region"
      onDragOver={(e) => {
        e.preventDefault();
        setOver(true);
      }}
      onDragLeave={() => setOver(false)}
      onDrop={onDrop}
    >
      {children}
      <div className="dropzone-prompt">
        {!compact && (
          <div className="dropzone-icon" aria-hidden>
            ⇪
          </div>
        )}
        <p>{compact ? 'Drop more images, or' : 'Drop photos or a folder here, paste an image, or'}</p>
        <button type="button" className="primary" onClick={pick} aria-label="Open images">
          Open images…
        </button>
      </div>
      <input
        ref={input}
        type="file"
        accept="image/*"
        multiple
        hidden
        data-testid="file-input"
        aria-label="Image files"
        onChange={(e) => {
          const files = Array.from(e.target.files ?? []).filter(isImageFile);
          e.target.value = '';
          if (files.length > 0) void importFiles(client, files);
        }}
      />
    </div>
  );
}
