import { reachableScales, scaleLabel } from './scales';

/**
 * The scale picker; `label` is its accessible name (tests and screen readers find it by that).
 * `scales` are the factors on offer (default: what x2 models reach), `describe` an option's text
 * (default: the passes of a x2 model); `plain` leaves the passes out, for a view that labels
 * them per model (compare).
 */
export function ScaleSelect({
  label,
  value,
  onChange,
  scales = reachableScales([]),
  describe = (s) => scaleLabel(s),
  plain,
}: {
  label: string;
  value: number;
  onChange(scale: number): void;
  scales?: readonly number[];
  describe?: (scale: number) => string;
  plain?: boolean;
}) {
  return (
    <select aria-label={label} value={value} onChange={(e) => onChange(Number(e.target.value))}>
      {scales.map((s) => (
        <option key={s} value={s}>
          {plain ? `x${s}` : describe(s)}
        </option>
      ))}
    </select>
  );
}
