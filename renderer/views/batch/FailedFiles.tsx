import { baseName } from '../../format';

/** The files a batch (local or queued) could not upscale, each with the engine's reason. */
export function FailedFiles({ failures }: { failures: readonly { input: string; reason?: string | null }[] }) {
  if (failures.length === 0) return null;
  return (
    <div className="failures" role="region" aria-label="Failures">
      <h3>Failed files</h3>
      <ul>
        {failures.map((f) => (
          <li key={f.input}>
            <strong>{baseName(f.input)}</strong>: {f.reason ?? 'no reason given'}
          </li>
        ))}
      </ul>
    </div>
  );
}
