import { realpath } from 'node:fs/promises';
import { basename, isAbsolute, join, relative } from 'node:path';
import { readImportanceReport, type ImportanceReport } from '../compress/importance';
import { IMPORTANCE_FILE } from '../compress/prune';
import { ForbiddenPathError, type PathPolicy } from './paths';
import { planFromReport, summarizeReport } from './prune-summary';
import { ValidationError } from './schema';
import type { PlanRequest, PlanResult, PruneSummary } from './types';

/**
 * Prune reports as the API reads them: from an allowed folder or from a prune run of this app
 * (under `<configDir>/runs`), with every refusal naming its field.
 */

/** A report that may be read: one in an allowed folder, or one a prune run of this app wrote. */
export async function reportPath(paths: PathPolicy, configDir: string, p: string): Promise<string> {
  try {
    return await paths.check(p, 'read');
  } catch (e) {
    if (!(e instanceof ForbiddenPathError)) throw e;
    const runs = await realpath(join(configDir, 'runs')).catch(() => undefined);
    const real = await realpath(p).catch(() => undefined);
    const rel = runs && real ? relative(runs, real) : '..';
    if (basename(rel) === IMPORTANCE_FILE && !rel.startsWith('..') && !isAbsolute(rel)) return real!;
    throw e;
  }
}

async function loadReport(
  paths: PathPolicy,
  configDir: string,
  file: string,
  field: string,
): Promise<{ path: string; report: ImportanceReport }> {
  const path = await reportPath(paths, configDir, file);
  try {
    return { path, report: await readImportanceReport(path) };
  } catch (e) {
    throw new ValidationError(field, (e as Error).message);
  }
}

export async function readPruneReport(paths: PathPolicy, configDir: string, file: string): Promise<PruneSummary> {
  const { path, report } = await loadReport(paths, configDir, file, 'readPruneReport.params.0');
  return summarizeReport(report, path);
}

export async function planCompression(paths: PathPolicy, configDir: string, req: PlanRequest): Promise<PlanResult> {
  const field = 'planCompression.params.0';
  const { report: file, ...target } = req;
  if (target.params === undefined && target.feats === undefined && target.blocks === undefined && target.layers === undefined) {
    throw new ValidationError(field, 'give a target: params (a budget) and/or feats, blocks, layers');
  }
  const { report } = await loadReport(paths, configDir, file, `${field}.report`);
  try {
    return planFromReport(report, target);
  } catch (e) {
    // shrink's messages start with the size they refuse; "no architecture within" is the budget's.
    const msg = (e as Error).message;
    const named = /^no architecture within/.test(msg) ? 'params' : /^(params|feats|blocks|layers|resScale)\b/.exec(msg)?.[1];
    throw new ValidationError(named ? `${field}.${named}` : field, msg);
  }
}
