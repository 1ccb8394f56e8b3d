import type { EngineClient, ImageRef } from '../../api/client';
import { useClient } from '../../app/client-context';
import { ModelSelect } from '../../components/ModelPicker';
import { offersScale } from '../../components/scales';
import { isActive, upscaleJobFor, useJobs } from '../../state/jobs';
import { useModels } from '../../state/models';
import { reportError, useUi } from '../../state/ui';

/** Starts an upscale of one image per model, tracked for the compare panes. */
export async function runModels(client: EngineClient, imageId: string, modelIds: readonly string[], scale: number): Promise<void> {
  for (const modelId of modelIds) {
    const req = { imageId, modelId, scale };
    try {
      useJobs.getState().track(await client.startUpscale(req), { kind: 'upscale', req });
    } catch (e) {
      reportError(e);
    }
  }
}

/** Picks the model for slot A or B; runs it on the image when its result is missing. */
export function ModelSlot({ slot, source, scale }: { slot: 'a' | 'b'; source: ImageRef; scale: number }) {
  const client = useClient();
  const models = useModels((s) => s.models);
  const modelId = useUi((s) => s.compare[slot]);
  const setCompare = useUi((s) => s.setCompare);
  const job = useJobs((s) => upscaleJobFor(s, source.id, modelId, scale));
  const have = !!job?.upscale;
  const run = () => modelId && runModels(client, source.id, [modelId], scale);
  const name = slot.toUpperCase();
  return (
    <span className="slot">
      <label className="field inline">
        <span>Model {name}</span>
        <ModelSelect
          models={models.filter((m) => offersScale(m, scale))}
          value={modelId}
          onChange={(id) => setCompare({ [slot]: id || undefined })}
          ariaLabel={`Model ${name}`}
          placeholder="—"
        />
      </label>
      {modelId &&
        !have &&
        (isActive(job) ? (
          <span className="muted small" role="status">
            {job?.progress ? `${job.progress.done}/${job.progress.total} tiles` : 'running…'}
          </span>
        ) : (
          <button type="button" onClick={() => void run()} aria-label={`Run model ${name}`}>
            Run
          </button>
        ))}
    </span>
  );
}
