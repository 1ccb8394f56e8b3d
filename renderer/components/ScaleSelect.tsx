import { scaleLabel } from '../format';

/** The output scales the engine accepts: x2 in one pass, x4 and x8 by repeated x2 passes. */
export const SCALES = [2, 4, 8] as const;

/**
 * The x2/x4/x8 picker; `label` is its accessible name (tests and screen readers find it by that).
 * `plain` leaves the passes out of the options, for a view that labels them per model (compare).
 */
export function ScaleSelect({
  label,
  value,
  onChange,
  plain,
}: {
  label: string;
  value: number;
  onChange(scale: number): void;
  plain?: boolean;
}) {
  return (
    <select aria-label={label} value={value} onChange={(e) => onChange(Number(e.target.value))}>
      {SCALES.map((s) => (
        <option key={s} value={s}>
          {plain ? `x${s}` : scaleLabel(s)}
        </option>
      ))}
    </select>
  );
}
