/** Field checks shared by the families' `validate`; errors name the family and the field. */

export function positiveInt(family: string, value: unknown, field: string): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 1) {
    throw new RangeError(`${family}: ${field} must be a positive integer, got ${String(value)}`);
  }
  return value;
}

export function positiveNumber(family: string, value: unknown, field: string): number {
  if (typeof value !== 'number' || !Number.isFinite(value) || value <= 0) {
    throw new RangeError(`${family}: ${field} must be a positive number, got ${String(value)}`);
  }
  return value;
}
