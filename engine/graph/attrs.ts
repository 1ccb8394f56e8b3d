import type { Attrs } from './ops';

/**
 * A node's attributes read with their ONNX defaults; a value of the wrong kind is an error (the
 * op table declares each attribute's type, so this only fires on a hand-built node).
 */

export function intAttr(attrs: Attrs, key: string, dflt: number): number {
  const v = attrs[key];
  if (v === undefined) return dflt;
  if (typeof v !== 'number') throw new TypeError(`attribute ${key} must be a number`);
  return v;
}

export function intsAttr(attrs: Attrs, key: string, dflt: readonly number[]): readonly number[] {
  const v = attrs[key];
  if (v === undefined) return dflt;
  if (!Array.isArray(v)) throw new TypeError(`attribute ${key} must be a list of numbers`);
  return v as readonly number[];
}

export function strAttr(attrs: Attrs, key: string, dflt: string): string {
  const v = attrs[key];
  if (v === undefined) return dflt;
  if (typeof v !== 'string') throw new TypeError(`attribute ${key} must be a string`);
  return v;
}
