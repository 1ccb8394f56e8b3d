import { describe, expect, it } from 'vitest';
import { dispatch } from '../../engine/api/dispatch';
import { parseParams, parseRegionQuery, parseRequest, toRpcError, ValidationError } from '../../engine/api/schema';
import { ENGINE_METHODS, type EngineApi } from '../../engine/api/types';

function refusal(f: () => unknown): ValidationError {
  try {
    f();
  } catch (e) {
    if (e instanceof ValidationError) return e;
    throw e;
  }
  throw new Error('expected a ValidationError');
}

describe('API message schema', () => {
  it('accepts well-formed requests', () => {
    expect(parseRequest({ id: 1, method: 'startUpscale', params: [{ imageId: 'a', modelId: 'edsr-mini-x2', scale: 4 }] })).toEqual({
      id: 1,
      method: 'startUpscale',
      params: [{ imageId: 'a', modelId: 'edsr-mini-x2', scale: 4 }],
    });
    expect(parseParams('setSettings', [{ tile: 256, ep: 'cpu' }])).toEqual([{ tile: 256, ep: 'cpu' }]);
    expect(parseParams('browse', [])).toEqual([]);
  });

  it('names the offending field', () => {
    const e = refusal(() => parseRequest({ id: 1, method: 'startUpscale', params: [{ imageId: 'a', modelId: 'm', scale: 6 }] }));
    expect(e.field).toBe('startUpscale.params.0.scale');
    expect(e.message).toBe('invalid startUpscale.params.0.scale: must be 2, 3, 4 or 8');
    expect(refusal(() => parseRequest({ id: 1, method: 'rmrf', params: [] })).field).toBe('method');
    expect(refusal(() => parseRequest({ id: -1, method: 'listJobs', params: [] })).field).toBe('id');
    expect(refusal(() => parseRequest({ id: 1, method: 'listJobs' })).field).toBe('params');
    expect(refusal(() => parseRequest({ id: 1, method: 'listJobs', params: [], extra: 1 })).message).toMatch(/extra/);
    expect(refusal(() => parseParams('setSettings', [{ tile: 'big' }])).field).toBe('setSettings.params.0.tile');
    expect(refusal(() => parseParams('setSettings', [{ colour: 'red' }])).message).toMatch(/colour/);
    expect(refusal(() => parseParams('setSettings', [{ nameTemplate: '../{name}.{ext}' }])).message).toMatch(/without folders/);
    expect(refusal(() => parseParams('setSettings', [{ nameTemplate: '{model}.{ext}' }])).message).toMatch(/\{name\}/);
    expect(refusal(() => parseParams('openImage', ['a\0b'])).field).toBe('openImage.params.0');
    expect(refusal(() => parseParams('importImage', ['x.png', 'not base64!'])).message).toMatch(/base64/);
    expect(refusal(() => parseParams('importImage', ['../x.png', 'AAAA'])).message).toMatch(/without folders/);
    expect(
      refusal(() =>
        parseParams('startBatch', [{ inputs: [], modelId: 'm', scale: 2, outputDir: '/o', recursive: false, skipExisting: false }]),
      ).field,
    ).toBe('startBatch.params.0.inputs');
    expect(refusal(() => parseParams('cancelJob', [])).field).toBe('cancelJob.params');
  });

  it('checks every call of the EngineApi', () => {
    for (const m of ENGINE_METHODS) expect(() => parseParams(m, 'not an array')).toThrow(ValidationError);
  });

  it('parses region queries strictly', () => {
    const q = parseRegionQuery(
      'img',
      new URLSearchParams('left=10&top=20&width=30&height=40&maxSide=512&resample=bicubic&scale=2&format=png'),
    );
    expect(q).toEqual({
      imageId: 'img',
      left: 10,
      top: 20,
      width: 30,
      height: 40,
      maxSide: 512,
      format: 'png',
      resample: { kernel: 'bicubic', scale: 2 },
    });
    expect(refusal(() => parseRegionQuery('img', new URLSearchParams('left=-1'))).field).toBe('query.left');
    expect(refusal(() => parseRegionQuery('img', new URLSearchParams('scale=2'))).field).toBe('query.scale');
    expect(refusal(() => parseRegionQuery('img', new URLSearchParams('path=/etc/passwd'))).message).toMatch(/path/);
  });

  it('dispatch validates before calling, and maps errors to wire errors', async () => {
    const calls: unknown[][] = [];
    const api = { cancelJob: async (...a: unknown[]) => (calls.push(a), 'ok') } as unknown as EngineApi;
    await expect(dispatch(api, 'cancelJob', ['j1'])).resolves.toBe('ok');
    await expect(dispatch(api, 'cancelJob', [42])).rejects.toThrow(/cancelJob.params.0/);
    await expect(dispatch(api, 'constructor', [])).rejects.toThrow(/unknown call/);
    expect(calls).toEqual([['j1']]);
    expect(toRpcError(new ValidationError('x.y', 'bad'))).toEqual({ message: 'invalid x.y: bad', code: 'bad-request', field: 'x.y' });
    expect(toRpcError(Object.assign(new Error('nope'), { code: 'forbidden' }))).toEqual({ message: 'nope', code: 'forbidden' });
    expect(toRpcError(Object.assign(new Error('io'), { code: 'EACCES' }))).toEqual({ message: 'io', code: 'failed' });
  });
});
