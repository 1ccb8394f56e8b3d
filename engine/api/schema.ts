import { z } from 'zod';
import { parseRedisUrl } from './redis-url';
import type { RpcError, RpcRequest } from './rpc';
import {
  ENGINE_METHODS,
  type BatchRequest,
  type DistillRequest,
  type EngineApi,
  type EngineMethod,
  type ImageRegionQuery,
  type PlanRequest,
  type PruneRequest,
  type UpscaleRequest,
} from './types';

/**
 * Runtime validation of every message a front end sends (WebSocket frames, IPC invokes, HTTP
 * query strings). Strict objects: unknown fields are refused too, so a typo is an error and not
 * a silently ignored option. Path *permission* is the host's job; here only shape.
 */

const id = z.string().min(1).max(200);
const path = z
  .string()
  .min(1)
  .max(4096)
  .refine((p) => !p.includes('\0'), 'must not contain NUL');
/** The factors the app offers; whether the chosen model reaches one is the model catalog's check. */
const scale = z.union([z.literal(2), z.literal(3), z.literal(4), z.literal(8)], { error: 'must be 2, 3, 4 or 8' });
/** A trained student's scale (the zoo's upsamplers). */
const studentScale = z.union([z.literal(2), z.literal(3), z.literal(4)], { error: 'must be 2, 3 or 4' });
const outputFormat = z.enum(['png', 'jpeg', 'webp', 'avif', 'tiff']);
const quality = z.number().int().min(1).max(100);
const redisUrl = z
  .string()
  .max(1000)
  .superRefine((u, ctx) => {
    try {
      parseRedisUrl(u);
    } catch (e) {
      ctx.addIssue({ code: 'custom', message: (e as Error).message });
    }
  });

export const settingsPatch = z
  .object({
    ep: z.enum(['auto', 'cpu', 'cuda', 'dml', 'coreml', 'webgpu']),
    tile: z.number().int().min(0).max(4096),
    threads: z.number().int().min(0).max(256),
    keepMetadata: z.boolean(),
    nameTemplate: z
      .string()
      .min(1)
      .max(200)
      .refine((t) => !/[\\/]/.test(t), 'must be a file name, without folders')
      .refine((t) => t.includes('{name}'), 'must contain {name} (else every output gets one name)'),
    format: z.union([outputFormat, z.literal('same')]),
    quality,
    theme: z.enum(['system', 'light', 'dark']),
    /** '' = no queue. */
    queueUrl: z.union([z.literal(''), redisUrl]),
  })
  .strict()
  .partial();

const upscaleRequest = z.object({ imageId: id, modelId: id, scale }).strict();

const batchRequest = z
  .object({
    inputs: z.array(path).min(1).max(10_000),
    modelId: id,
    scale,
    outputDir: path,
    recursive: z.boolean(),
    glob: z.string().min(1).max(500).optional(),
    skipExisting: z.boolean(),
  })
  .strict();

/** A zoo config's shape only (engine/zoo/registry's validateConfig judges its values in the host). */
const zooConfig = z
  .object({ family: z.string().min(1).max(50) })
  .catchall(z.union([z.number().finite(), z.string().max(200), z.boolean(), z.array(z.number().finite()).max(64)]))
  .refine((c) => Object.keys(c).length <= 40, 'has too many fields');

const distillRequest = z
  .object({
    teacher: z.string().min(1).max(4096),
    teacherPreset: id.optional(),
    student: id.optional(),
    studentConfig: zooConfig.optional(),
    scale: studentScale.optional(),
    steps: z.number().int().min(1).max(10_000_000),
    batch: z.number().int().min(1).max(256),
    patch: z.number().int().min(8).max(512),
    lr: z.number().positive().max(1),
    dataDir: path,
    valDir: path.optional(),
    init: z.enum(['random', 'inherit']).optional(),
    report: path.optional(),
  })
  .strict();

const pruneRequest = z
  .object({
    teacher: z.string().min(1).max(4096),
    teacherPreset: id.optional(),
    dataDir: path,
    valDir: path.optional(),
    steps: z.number().int().min(1).max(10_000_000),
    lambda: z.number().min(0).max(100),
    batch: z.number().int().min(1).max(256).optional(),
    patch: z.number().int().min(8).max(512).optional(),
    lr: z.number().positive().max(1).optional(),
  })
  .strict();

const size = z.number().int().min(1).max(100_000);
const planRequest = z
  .object({
    report: path,
    params: z.number().int().min(1).max(1_000_000_000).optional(),
    feats: size.optional(),
    blocks: size.optional(),
    layers: size.optional(),
    resScale: z.number().positive().max(100).optional(),
    scale: studentScale.optional(),
  })
  .strict();

/**
 * Compile-time: a schema's parsed value and the contract's request type (types.ts, which imports
 * nothing at run time and so cannot derive from zod) have the same fields, the same ones
 * optional, and each parsed field fits the contract's: a field added or changed on one side only
 * fails the typecheck.
 */
type OptionalKeys<T> = { [K in keyof T]-?: object extends Pick<T, K> ? K : never }[keyof T];
type SameKeys<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
type SameFields<Parsed, Contract> =
  SameKeys<keyof Parsed, keyof Contract> extends true
    ? SameKeys<OptionalKeys<Parsed>, OptionalKeys<Contract>> extends true
      ? Parsed extends Contract
        ? true
        : false
      : false
    : false;
const _requestsMatch: [
  SameFields<z.infer<typeof upscaleRequest>, UpscaleRequest>,
  SameFields<z.infer<typeof batchRequest>, BatchRequest>,
  SameFields<z.infer<typeof distillRequest>, DistillRequest>,
  SameFields<z.infer<typeof pruneRequest>, PruneRequest>,
  SameFields<z.infer<typeof planRequest>, PlanRequest>,
] = [true, true, true, true, true];
void _requestsMatch;

/** Maximum decoded size of an `importImage` payload (base64 is 4/3 of it). */
export const MAX_UPLOAD_BYTES = 200 * 1024 * 1024;

/** Parameter tuples, one per call. */
export const paramSchemas = {
  systemInfo: z.tuple([]),
  listModels: z.tuple([]),
  importModel: z.tuple([
    path,
    z
      .object({ name: z.string().min(1).max(100).optional(), range: z.union([z.literal(1), z.literal(255)]).optional() })
      .strict()
      .optional(),
  ]),
  getSettings: z.tuple([]),
  setSettings: z.tuple([settingsPatch]),
  openImage: z.tuple([path]),
  importImage: z.tuple([
    z
      .string()
      .min(1)
      .max(255)
      .refine((n) => !/[\\/\0]/.test(n), 'must be a file name, without folders'),
    z
      .string()
      .max(Math.ceil((MAX_UPLOAD_BYTES * 4) / 3) + 4)
      .regex(/^[A-Za-z0-9+/]*={0,2}$/, 'must be base64'),
  ]),
  startUpscale: z.tuple([upscaleRequest]),
  startBatch: z.tuple([batchRequest]),
  testQueue: z.tuple([redisUrl]),
  sendBatchToQueue: z.tuple([batchRequest]),
  queueBatchStatus: z.tuple([id]),
  startDistill: z.tuple([distillRequest]),
  startPrune: z.tuple([pruneRequest]),
  readPruneReport: z.tuple([path]),
  planCompression: z.tuple([planRequest]),
  pauseJob: z.tuple([id]),
  resumeJob: z.tuple([id]),
  cancelJob: z.tuple([id]),
  listJobs: z.tuple([]),
  saveImage: z.tuple([id, path, outputFormat.optional(), quality.optional()]),
  browse: z.tuple([path.optional()]),
  getHistory: z.tuple([]),
  clearHistory: z.tuple([]),
} satisfies Record<EngineMethod, z.ZodType>;

// Every EngineApi call has a schema (compile-time check).
const _allMethodsCovered: Record<keyof EngineApi, unknown> = paramSchemas;
void _allMethodsCovered;

/** A refused message: the text names the field and what was wrong with it. */
export class ValidationError extends Error {
  readonly field: string;
  constructor(field: string, problem: string) {
    super(`invalid ${field}: ${problem}`);
    this.name = 'ValidationError';
    this.field = field;
  }
}

function fail(prefix: string, error: z.ZodError): never {
  const issue = error.issues[0]!;
  const field = [prefix, ...issue.path.map(String)].filter(Boolean).join('.');
  throw new ValidationError(field || 'message', issue.message);
}

export function parseParams<M extends EngineMethod>(method: M, params: unknown): Parameters<EngineApi[M]> {
  const r = paramSchemas[method].safeParse(params);
  if (!r.success) fail(`${method}.params`, r.error);
  return r.data as Parameters<EngineApi[M]>;
}

const rpcRequest = z.object({ id: z.number().int().nonnegative(), method: z.enum(ENGINE_METHODS), params: z.array(z.unknown()) }).strict();

/** Parses one WebSocket frame's JSON into a request with checked params. */
export function parseRequest(raw: unknown): RpcRequest {
  const r = rpcRequest.safeParse(raw);
  if (!r.success) fail('', r.error);
  return { id: r.data.id, method: r.data.method, params: parseParams(r.data.method, r.data.params) };
}

const intParam = z.coerce
  .number()
  .int()
  .min(0)
  .max(1 << 20);
const regionQuery = z
  .object({
    left: intParam.optional(),
    top: intParam.optional(),
    width: intParam.min(1).optional(),
    height: intParam.min(1).optional(),
    maxSide: intParam.min(1).max(16384).optional(),
    resample: z.enum(['bicubic', 'nearest']).optional(),
    scale: z.coerce.number().int().min(1).max(16).optional(),
    format: z.enum(['webp', 'png']).optional(),
  })
  .strict();

/** An image-region query string (token already removed) as an ImageRegionQuery. */
export function parseRegionQuery(imageId: string, search: URLSearchParams): ImageRegionQuery {
  const r = regionQuery.safeParse(Object.fromEntries(search));
  if (!r.success) fail('query', r.error);
  const { resample, scale: s, ...rest } = r.data;
  if (s !== undefined && !resample) throw new ValidationError('query.scale', 'needs resample');
  return { imageId, ...rest, ...(resample ? { resample: { kernel: resample, scale: s ?? 2 } } : {}) };
}

/** Turns any thrown error into the wire error shape. */
export function toRpcError(e: unknown): RpcError {
  if (e instanceof ValidationError) return { message: e.message, code: 'bad-request', field: e.field };
  const err = e as { message?: string; code?: unknown };
  const code = err.code === 'forbidden' || err.code === 'not-found' || err.code === 'bad-request' ? err.code : 'failed';
  return { message: typeof err.message === 'string' ? err.message : String(e), code };
}
