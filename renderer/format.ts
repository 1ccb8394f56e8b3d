/** Number formatting shared by the views. */

export const formatInt = (n: number) => Math.round(n).toLocaleString('en-US');

/** 1,369,859 → "1.37 M"; 49,603 → "49.6 k". */
export function formatCount(n: number): string {
  if (n >= 1e9) return `${(n / 1e9).toFixed(2)} G`;
  if (n >= 1e6) return `${(n / 1e6).toFixed(2)} M`;
  if (n >= 1e3) return `${(n / 1e3).toFixed(1)} k`;
  return String(Math.round(n));
}

export function formatGflops(flops: number): string {
  const g = flops / 1e9;
  return g >= 100 ? `${g.toFixed(0)} GFLOPs` : `${g.toFixed(1)} GFLOPs`;
}

export function formatDuration(sec: number | undefined): string {
  if (sec === undefined || !Number.isFinite(sec)) return '—';
  const s = Math.max(0, Math.round(sec));
  if (s < 60) return `${s} s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m} min ${String(s % 60).padStart(2, '0')} s`;
  return `${Math.floor(m / 60)} h ${String(m % 60).padStart(2, '0')} min`;
}

/** Run times in seconds throughout, so models read side by side compare at a glance. */
export function formatMillis(ms: number): string {
  return `${(ms / 1000).toFixed(ms < 10_000 ? 2 : 1)} s`;
}

export function formatBytes(n: number): string {
  if (n >= 1 << 20) return `${(n / (1 << 20)).toFixed(1)} MB`;
  if (n >= 1 << 10) return `${(n / (1 << 10)).toFixed(0)} kB`;
  return `${n} B`;
}

/** The file name of a path, either separator. */
export const baseName = (p: string) => p.split(/[\\/]/).pop() ?? p;
