import { afterAll, describe, expect, it } from 'vitest';
import type { HostTensor } from '../../engine/io/tensor';
import { SessionCache, type CachedSession, type SessionKey } from '../../engine/runtime/cache';
import type { OpenOptions } from '../../engine/runtime/select';
import { autoTile, upscaleImage } from '../../engine/upscale/pipeline';
import { randomImage, tinyModel } from './upscale-helpers';

/** A cache whose sessions fail like a device out of memory for inputs wider than `maxSide`. */
class SmallDeviceCache extends SessionCache {
  readonly sides: number[] = [];
  constructor(
    private readonly maxSide: number,
    private readonly message = 'Failed to allocate memory for requested buffer',
  ) {
    super(4);
  }
  override async get(
    key: SessionKey,
    model: () => Uint8Array | string | Promise<Uint8Array | string>,
    opts: Omit<OpenOptions, 'ep'> = {},
  ): Promise<CachedSession> {
    const real = await super.get(key, model, { ...opts, probe: undefined! });
    const session = Object.create(real.session) as typeof real.session;
    session.run = async (feeds: Readonly<Record<string, HostTensor>>) => {
      const side = Math.max(...Object.values(feeds).map((t) => t.shape[3]!));
      this.sides.push(side);
      if (side > this.maxSide) throw new Error(`${this.message} (side ${side})`);
      return real.session.run(feeds);
    };
    return { session, report: real.report };
  }
}

const model = tinyModel();
const normal = new SessionCache(4);
afterAll(() => normal.clear());

describe('tile size', () => {
  it('auto tile follows the EP and shrinks with free memory', () => {
    expect(autoTile(model, 'cpu', 8 * 2 ** 30)).toBe(256);
    expect(autoTile(model, 'webgpu', 8 * 2 ** 30)).toBe(512);
    const tight = autoTile(model, 'webgpu', 64 * 2 ** 20);
    expect(tight).toBeLessThan(256);
    expect(tight).toBeGreaterThan(0);
  });

  it('retries with smaller tiles after an out-of-memory failure, with the same result', async () => {
    const img = randomImage(90, 70, 4);
    const small = new SmallDeviceCache(32);
    const ref = await upscaleImage(img, undefined, { model, sessions: normal, ep: 'cpu', tile: 64 });
    const got = await upscaleImage(img, undefined, { model, sessions: small, ep: 'cpu', tile: 128 });
    await small.clear();
    expect(small.sides[0]).toBe(90); // tile 128 capped at the image width: failed
    expect(small.sides).toContain(64); // then 64: failed
    expect(small.sides[small.sides.length - 1]).toBe(32); // finished at 32
    let max = 0;
    for (let i = 0; i < ref.rgb.data.length; i++) max = Math.max(max, Math.abs(ref.rgb.data[i]! - got.rgb.data[i]!));
    expect(max).toBeLessThan(1e-3);
  });

  it('a failure that is not out-of-memory is not retried', async () => {
    const broken = new SmallDeviceCache(32, 'Got invalid dimensions for input');
    await expect(upscaleImage(randomImage(90, 70, 1), undefined, { model, sessions: broken, ep: 'cpu', tile: 64 })).rejects.toThrow(
      /invalid dimensions/,
    );
    await broken.clear();
    expect(broken.sides).toEqual([64]);
  });

  it('gives up when even the smallest tile runs out of memory', async () => {
    const tiny = new SmallDeviceCache(8);
    await expect(upscaleImage(randomImage(90, 70, 1), undefined, { model, sessions: tiny, ep: 'cpu', tile: 64 })).rejects.toThrow(
      /Failed to allocate/,
    );
    await tiny.clear();
    expect(tiny.sides).toEqual([64, 32]);
  });
});
