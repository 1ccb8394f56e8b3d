import { cleanup, render } from '@testing-library/react';
import { App } from '../../renderer/app/App';
import { useImages } from '../../renderer/state/images';
import { useJobs } from '../../renderer/state/jobs';
import { useModels } from '../../renderer/state/models';
import { useQueueBatch } from '../../renderer/state/queue-batch';
import { useSettings } from '../../renderer/state/settings';
import { useUi } from '../../renderer/state/ui';
import type { FakeClient } from './renderer-fake-client';

/** Renders the whole app against a fake client, starting from empty stores; each emitted event is applied at once. */
export function renderApp(client: FakeClient) {
  for (const reset of [useImages, useJobs, useModels, useQueueBatch, useSettings, useUi].map((s) => s.getState().reset)) reset();
  return render(<App client={client} eventBatchMs={0} />);
}

export function teardown() {
  cleanup();
}

/** jsdom has no matchMedia or ResizeObserver; the app works without them but uPlot wants matchMedia. */
export function installBrowserGaps() {
  if (typeof window.matchMedia !== 'function') {
    window.matchMedia = (query: string) =>
      ({
        matches: false,
        media: query,
        onchange: null,
        addEventListener() {},
        removeEventListener() {},
        addListener() {},
        removeListener() {},
        dispatchEvent: () => false,
      }) as MediaQueryList;
  }
}
