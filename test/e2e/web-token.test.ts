import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ModelInfo } from '../../engine/api/types';
import { chromiumAvailable, startRig, type Rig } from './harness';

/** Web mode's access token in a real browser: out of the address bar, kept by the cookie, useless to other pages. */
describe.skipIf(!chromiumAvailable())('web-mode token and origin in Chromium (e2e)', () => {
  let rig: Rig;
  let compactLabel: string;
  let foreign: Server;
  let foreignUrl: string;

  beforeAll(async () => {
    rig = await startRig();
    const models: ModelInfo[] = await rig.host.listModels();
    compactLabel = models.find((m) => m.id === rig.compactModel)!.label;
    // Another page on the same machine (same site as 127.0.0.1, so the browser sends our cookie).
    foreign = createServer((_req, res) => res.end('<html><body>elsewhere</body></html>'));
    await new Promise<void>((ok) => foreign.listen(0, '127.0.0.1', ok));
    foreignUrl = `http://127.0.0.1:${(foreign.address() as AddressInfo).port}/`;
  });
  afterAll(async () => {
    foreign?.close();
    await rig?.close();
  });

  it('drops the token from the address bar after the first load, and a reload still works', async () => {
    const page = await rig.newPage();
    const model = page.getByRole('radio', { name: compactLabel });
    await model.waitFor();
    expect(page.url()).toBe(`http://127.0.0.1:${rig.server.port}/`);
    await page.reload();
    // The model list comes over the WebSocket: the reloaded page is authorised by the cookie alone.
    await model.waitFor();
    expect(page.url()).not.toContain('token');
    await page.context().close();
  });

  it('refuses a cross-origin POST that carries the session cookie', async () => {
    const page = await rig.newPage();
    await page.getByRole('radio', { name: compactLabel }).waitFor();
    await page.goto(foreignUrl);
    // A form post (a top-level navigation, so the answer is visible rather than blocked by CORP).
    const upload = `http://127.0.0.1:${rig.server.port}/api/upload?name=x.png`;
    const [response] = await Promise.all([
      page.waitForResponse(upload),
      page.evaluate((url) => {
        const form = document.createElement('form');
        Object.assign(form, { method: 'POST', action: url, enctype: 'text/plain' });
        document.body.append(form);
        form.submit();
      }, upload),
    ]);
    expect(response.status()).toBe(403);
    expect(await response.request().headerValue('origin')).toBe(foreignUrl.slice(0, -1));
    expect(await response.request().headerValue('cookie')).toMatch(/minisr_token=/);
    await page.context().close();
  });
});
