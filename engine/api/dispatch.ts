import { parseParams, ValidationError } from './schema';
import { ENGINE_METHODS, type EngineApi, type EngineMethod } from './types';

/** Validates a call's name and parameters, then makes it: the one entry both transports use. */
export async function dispatch(api: EngineApi, method: unknown, params: unknown): Promise<unknown> {
  if (typeof method !== 'string' || !(ENGINE_METHODS as readonly string[]).includes(method)) {
    throw new ValidationError('method', `unknown call ${JSON.stringify(method)}; known: ${ENGINE_METHODS.join(', ')}`);
  }
  const m = method as EngineMethod;
  const args = parseParams(m, params) as unknown[];
  return (api[m] as (...a: unknown[]) => Promise<unknown>).apply(api, args);
}
