import { useState } from 'react';
import type { QueueCheck } from '../../api/client';
import { useClient } from '../../app/client-context';
import { useSettings } from '../../state/settings';

/**
 * Settings → "Queue (optional)": the Redis URL of `minisr worker`s that the Batch view may send
 * batches to. Saved when the field is left (the engine refuses what is not a redis:// URL, and
 * says why, and the draft stays for fixing); "Test connection" asks the engine whether that
 * Redis answers. Only this field changes the setting, so the draft starts from it and stays.
 */
export function QueueSettings({ saved }: { saved: string }) {
  const client = useClient();
  const [draft, setDraft] = useState(saved);
  const [check, setCheck] = useState<QueueCheck | { testing: true }>();
  const save = () => {
    const url = draft.trim();
    if (url !== saved) void useSettings.getState().update(client, { queueUrl: url });
  };
  const test = async () => {
    setCheck({ testing: true });
    try {
      setCheck(await client.testQueue(draft.trim()));
    } catch (e) {
      setCheck({ reachable: false, detail: (e as Error).message });
    }
  };
  return (
    <fieldset>
      <legend>Queue (optional)</legend>
      <label className="field">
        <span>Redis URL of the minisr workers (empty: batches run here only)</span>
        <input
          type="text"
          aria-label="Queue URL"
          value={draft}
          placeholder="redis://HOST:6379"
          spellCheck={false}
          onChange={(e) => {
            setDraft(e.target.value);
            setCheck(undefined);
          }}
          onBlur={save}
          onKeyDown={(e) => e.key === 'Enter' && save()}
        />
        <small className="muted">Inputs and outputs must be on storage every worker sees (a shared folder).</small>
      </label>
      <div className="actions">
        <button type="button" disabled={!draft.trim() || (check !== undefined && 'testing' in check)} onClick={() => void test()}>
          Test connection
        </button>
        {check && (
          <span role="status" data-testid="queue-check" className={'testing' in check ? 'muted' : check.reachable ? 'ok' : 'error'}>
            {'testing' in check ? 'Testing…' : `${check.reachable ? 'Reachable' : 'Unreachable'}: ${check.detail}`}
          </span>
        )}
      </div>
    </fieldset>
  );
}
