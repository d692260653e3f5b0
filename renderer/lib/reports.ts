/**
 * Reading the reports the optimize pipeline stores per variant (kinds such as 'sensitivity' and 'evaluation'),
 * tolerant of their exact nesting: the screens only need the per-layer list and a confusion matrix.
 */
export interface LayerRow {
  op: string;
  type: string;
  sqnrDb: number | null;
  rmseOverScale: number | null;
  suspicious: boolean;
}

export interface Confusion {
  matrix: number[][];
  classNames: string[] | null;
  top1: number | null;
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Depth-first search for the first value matching `test`. */
function find(v: unknown, test: (v: unknown) => boolean, depth = 0): unknown {
  if (test(v)) return v;
  if (depth > 4) return undefined;
  const children = Array.isArray(v) ? v : isObject(v) ? Object.values(v) : [];
  for (const c of children) {
    const hit = find(c, test, depth + 1);
    if (hit !== undefined) return hit;
  }
  return undefined;
}

const isLayerList = (v: unknown) => Array.isArray(v) && v.length > 0 && isObject(v[0]) && ('sqnrDb' in v[0] || 'rmseOverScale' in v[0]);

export function sensitivityRows(reports: Record<string, unknown>): LayerRow[] {
  const list = find(reports.sensitivity ?? reports, isLayerList) as Record<string, unknown>[] | undefined;
  return (list ?? []).map((l) => ({
    op: String(l.op ?? l.name ?? l.tensor ?? '?'),
    type: String(l.type ?? ''),
    sqnrDb: typeof l.sqnrDb === 'number' ? l.sqnrDb : null,
    rmseOverScale: typeof l.rmseOverScale === 'number' ? l.rmseOverScale : null,
    suspicious: l.suspicious === true,
  }));
}

export function confusionOf(reports: Record<string, unknown>): Confusion | null {
  const holder = find(reports, (v) => isObject(v) && Array.isArray(v.confusion) && Array.isArray(v.confusion[0])) as Record<string, unknown> | undefined;
  if (!holder) return null;
  const names = find(reports, (v) => isObject(v) && Array.isArray(v.classNames)) as { classNames: string[] } | undefined;
  return { matrix: holder.confusion as number[][], classNames: names?.classNames ?? null, top1: typeof holder.top1 === 'number' ? holder.top1 : null };
}
