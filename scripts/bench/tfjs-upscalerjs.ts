import { readFile } from 'node:fs/promises';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { getThreadsCount, setThreadsCount, setWasmPaths } from '@tensorflow/tfjs-backend-wasm';

/**
 * UpscalerJS's models run as UpscalerJS runs them: TensorFlow.js (wasm backend: tfjs-node cannot
 * fetch its binary here) with the package's own model definition (custom layers via its `setup`,
 * its input/output ranges). The reference our Keras importer is checked and timed against.
 */

export type UpscalerjsPackage = 'esrgan-slim' | 'esrgan-medium' | 'esrgan-thick';

const REPO = path.resolve(import.meta.dirname, '../..');

export function upscalerjsModelJson(pkg: UpscalerjsPackage, scale: number): string {
  return path.join(REPO, 'node_modules/@upscalerjs', pkg, `models/x${scale}/model.json`);
}

interface ModelDefinition {
  readonly setup?: (t: typeof tf) => void;
  readonly inputRange: readonly [number, number];
  readonly outputRange: readonly [number, number];
}

let backendThreads: number | undefined;

/**
 * The wasm backend asked for `threads` threads (fixed once it starts: one count per process).
 * Returns the threads it uses: in Node tfjs turns multithreading off (tfjs issue #3830; forcing
 * WASM_HAS_MULTITHREAD_SUPPORT fails with ERR_WORKER_PATH), so that is 1.
 */
export async function initTfjsWasm(threads: number): Promise<number> {
  if (backendThreads !== undefined) {
    if (backendThreads !== threads) throw new Error(`tfjs-wasm already started with ${backendThreads} threads`);
    return getThreadsCount();
  }
  setWasmPaths(path.join(REPO, 'node_modules/@tensorflow/tfjs-backend-wasm/dist') + path.sep);
  setThreadsCount(threads);
  if (!(await tf.setBackend('wasm'))) throw new Error('tfjs: the wasm backend did not start');
  backendThreads = threads;
  return getThreadsCount();
}

export interface TfjsUpscaler {
  /** NCHW RGB in [0, 1] -> NCHW RGB in [0, 1] (scaled from the model's output range, not clipped). */
  run(nchw: Float32Array, height: number, width: number): Promise<Float32Array>;
  dispose(): void;
}

export async function loadTfjsUpscaler(pkg: UpscalerjsPackage, scale: number): Promise<TfjsUpscaler> {
  const def = ((await import(`@upscalerjs/${pkg}/${scale}x`)) as { default: ModelDefinition }).default;
  def.setup?.(tf);
  const file = upscalerjsModelJson(pkg, scale);
  const doc = JSON.parse(await readFile(file, 'utf8')) as {
    modelTopology: object;
    weightsManifest: { paths: string[]; weights: tf.io.WeightsManifestEntry[] }[];
  };
  const shards = await Promise.all(doc.weightsManifest.flatMap((g) => g.paths).map((p) => readFile(path.join(path.dirname(file), p))));
  const all = Buffer.concat(shards);
  const model = await tf.loadLayersModel(
    tf.io.fromMemory({
      modelTopology: doc.modelTopology,
      weightSpecs: doc.weightsManifest.flatMap((g) => g.weights),
      weightData: all.buffer.slice(all.byteOffset, all.byteOffset + all.byteLength),
    }),
  );
  const inMax = def.inputRange[1];
  const outMax = def.outputRange[1];
  return {
    async run(nchw, height, width) {
      const y = tf.tidy(() => {
        const x = tf.tensor4d(nchw, [1, 3, height, width]).transpose([0, 2, 3, 1]).mul(inMax);
        return (model.predict(x) as tf.Tensor4D).div(outMax).transpose([0, 3, 1, 2]);
      });
      const data = (await y.data()) as Float32Array;
      y.dispose();
      return data;
    },
    dispose: () => model.dispose(),
  };
}
