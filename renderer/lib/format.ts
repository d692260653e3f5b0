/** Number and date formatting for people. */
export function formatBytes(bytes: number): string {
  if (!Number.isFinite(bytes)) return '—';
  if (bytes < 1024) return `${bytes} B`;
  const units = ['KB', 'MB', 'GB'];
  let value = bytes / 1024;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return `${value.toFixed(value < 10 ? 1 : 0)} ${units[unit]}`;
}

export function formatCount(n: number): string {
  return new Intl.NumberFormat(undefined, { notation: n >= 1e6 ? 'compact' : 'standard' }).format(n);
}

export function formatDate(iso: string): string {
  const date = new Date(iso);
  return Number.isNaN(date.getTime()) ? iso : date.toLocaleString(undefined, { dateStyle: 'medium', timeStyle: 'short' });
}

/** 0.9871 → "98.71 %"; null → "—". */
export function formatPercent(fraction: number | null | undefined, digits = 2): string {
  return fraction === null || fraction === undefined || !Number.isFinite(fraction) ? '—' : `${(fraction * 100).toFixed(digits)} %`;
}

export function formatMs(ms: number | null | undefined): string {
  if (ms === null || ms === undefined || !Number.isFinite(ms)) return '—';
  return ms < 1 ? `${ms.toFixed(3)} ms` : ms < 100 ? `${ms.toFixed(2)} ms` : `${Math.round(ms)} ms`;
}

/** Bytes or "—" for missing values. */
export function formatSize(bytes: number | null | undefined): string {
  return bytes === null || bytes === undefined ? '—' : formatBytes(bytes);
}

/** A variant's recipe technique in words. */
export function techniqueLabel(technique: string | null | undefined): string {
  const labels: Record<string, string> = {
    float16: 'float16 weights',
    'dynamic-range': 'dynamic range (int8 weights)',
    int8: 'full integer (int8)',
    convert: 'original (float32)',
    'edgetpu-compile': 'compiled for the Edge TPU',
  };
  return technique ? (labels[technique] ?? technique) : '—';
}
