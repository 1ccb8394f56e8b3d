import { useState } from 'react';
import { useClient } from '../../app/client-context';
import { importedText, importModelAt } from '../../app/import-model';
import { reportError } from '../../state/ui';

/**
 * "Import model…": a checkpoint, ONNX file or model.json the user picks comes into their models folder as ONNX + card
 * (the engine's importModel), and joins every model picker at once.
 */
export function ImportModel() {
  const client = useClient();
  const [status, setStatus] = useState<string>();
  const [busy, setBusy] = useState(false);
  const dialogs = client.dialogs;

  async function pick() {
    const path = await dialogs!.openModel();
    if (!path) return;
    setBusy(true);
    setStatus(undefined);
    try {
      setStatus(importedText(await importModelAt(client, path)));
    } catch (e) {
      reportError(e);
    } finally {
      setBusy(false);
    }
  }

  return (
    <fieldset>
      <legend>Models</legend>
      {dialogs ? (
        <button type="button" onClick={() => void pick()} disabled={busy}>
          {busy ? 'Importing…' : 'Import model…'}
        </button>
      ) : (
        // A page cannot name files outside the allowed folders: the CLI imports in web mode.
        <p className="muted small">
          Import ESRGAN, Real-ESRGAN or EDSR weights with <code>minisr import &lt;file&gt;</code>.
        </p>
      )}
      {status && (
        <p role="status" className="small">
          {status}
        </p>
      )}
    </fieldset>
  );
}
