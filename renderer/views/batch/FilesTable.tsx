import { baseName } from '../../format';

/** One file of a batch as the table shows it; `worker` only for a queued batch. */
export interface FileRow<S extends string> {
  readonly input: string;
  readonly state: S;
  readonly output?: string;
  readonly reason?: string;
  readonly worker?: string;
}

/**
 * Each file of a batch (local or queued) with its state and its output, or for a failed file the
 * engine's reason. The state's class and `data-state` are the engine's state; the label is the
 * view's word for it.
 */
export function FilesTable<S extends string>({ files, labels }: { files: readonly FileRow<S>[]; labels: Record<S, string> }) {
  return (
    <table className="queue-table" aria-label="Files">
      <thead>
        <tr>
          <th scope="col">File</th>
          <th scope="col">Status</th>
          <th scope="col">Output / reason</th>
        </tr>
      </thead>
      <tbody>
        {files.map((f) => (
          <tr key={f.input} data-state={f.state}>
            <td title={f.input}>{baseName(f.input)}</td>
            <td>
              <span className={`state-pill ${f.state}`}>{labels[f.state]}</span>
            </td>
            <td className="muted" title={f.output ?? f.reason}>
              {f.state === 'failed' ? f.reason : f.output ? `${baseName(f.output)}${f.worker ? ` (on ${f.worker})` : ''}` : ''}
            </td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}
