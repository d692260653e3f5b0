/**
 * Pareto fronts and the recommended pick, on plain `VariantPoint`s (no database): quality (accuracy, or
 * agreement when nothing was measured on labelled data) against size and against CPU latency, and one variant
 * per goal with a sentence a non-specialist can read.
 *
 * The one rule the pick never breaks: a variant that loses more than `maxAccuracyDrop` against the original
 * (or, without an original, against the best variant) is never recommended while one within the limit exists.
 */
import type { CustomGoal, Recommendation, ResultsGoal, VariantPoint } from '../../preload/contract.ts';

export const DEFAULT_MAX_ACCURACY_DROP = 0.01;
const EPS = 1e-9;

export type QualityKind = 'accuracy' | 'agreement';

/** Accuracy when any variant has it (labels were available), else agreement, else null. */
export function qualityKind(points: VariantPoint[]): QualityKind | null {
  if (points.some((p) => p.accuracy !== null)) return 'accuracy';
  if (points.some((p) => p.agreement !== null && !p.isBaseline)) return 'agreement';
  return null;
}

export function qualityOf(p: VariantPoint, kind: QualityKind | null): number | null {
  return kind === null ? null : p[kind];
}

/**
 * Ids of the points no other point beats (no other is at most as large/slow AND at least as good, one of
 * them strictly), sorted by x ascending. Points missing x or quality are left out.
 */
export function paretoFront(points: VariantPoint[], x: (p: VariantPoint) => number | null, kind: QualityKind | null): string[] {
  const usable = points
    .map((p) => ({ id: p.id, x: x(p), q: qualityOf(p, kind) }))
    .filter((p): p is { id: string; x: number; q: number } => p.x !== null && p.q !== null)
    .sort((a, b) => a.x - b.x || b.q - a.q);
  const front: string[] = [];
  let bestQ = -Infinity;
  for (const p of usable) {
    if (p.q > bestQ + EPS) {
      front.push(p.id);
      bestQ = p.q;
    }
  }
  return front;
}

export interface RecommendOptions {
  goal: ResultsGoal;
  maxAccuracyDrop?: number;
  custom?: CustomGoal;
}

const pts = (drop: number) => `${fmt(drop * 100)} point${Math.abs(drop * 100 - 1) < EPS ? '' : 's'}`;

function fmt(n: number, digits = 1): string {
  const s = n.toFixed(digits);
  return s.includes('.') ? s.replace(/\.?0+$/, '') : s;
}

/** Ranking key per goal: lower is better; null = the variant cannot be ranked for this goal. */
function keyFor(goal: ResultsGoal, kind: QualityKind | null, custom: CustomGoal): (p: VariantPoint) => number[] | null {
  switch (goal) {
    case 'size':
      return (p) => (p.sizeBytes === null ? null : [p.sizeBytes]);
    case 'cpu-speed':
      return (p) => (p.cpuP50Ms === null ? null : [p.cpuP50Ms, p.sizeBytes ?? Infinity]);
    case 'edgetpu':
      // Most ops on the TPU first (each op on the CPU costs a round trip over USB), then measured speed, then size.
      return (p) =>
        p.edgetpuOps === null && p.edgetpuP50Ms === null
          ? null
          : [p.edgetpuOps ? -(p.edgetpuOps.mapped / Math.max(1, p.edgetpuOps.total)) : 0, p.edgetpuP50Ms ?? Infinity, p.sizeBytes ?? Infinity];
    case 'custom':
      return (p) => {
        if (custom.maxSizeBytes !== undefined && (p.sizeBytes === null || p.sizeBytes > custom.maxSizeBytes)) return null;
        if (custom.maxCpuLatencyMs !== undefined && (p.cpuP50Ms === null || p.cpuP50Ms > custom.maxCpuLatencyMs)) return null;
        return [-(qualityOf(p, kind) ?? -Infinity), p.sizeBytes ?? Infinity];
      };
  }
}

function lexLess(a: number[], b: number[]): boolean {
  for (let i = 0; i < Math.max(a.length, b.length); i++) {
    const x = a[i] ?? 0;
    const y = b[i] ?? 0;
    if (x < y - EPS) return true;
    if (x > y + EPS) return false;
  }
  return false;
}

/** The recommended variant for a goal, with its reason and the better-on-paper variants it passed over. */
export function recommend(points: VariantPoint[], options: RecommendOptions): Recommendation {
  const { goal } = options;
  const maxDrop = options.maxAccuracyDrop ?? DEFAULT_MAX_ACCURACY_DROP;
  const kind = qualityKind(points);
  const baseline = points.find((p) => p.isBaseline) ?? null;
  const known = points.map((p) => qualityOf(p, kind)).filter((q): q is number => q !== null);
  const reference = (baseline && qualityOf(baseline, kind)) ?? (known.length ? Math.max(...known) : null);
  const key = keyFor(goal, kind, options.custom ?? {});

  const ranked = points
    .filter((p) => p.status === 'ready')
    .map((p) => ({ p, k: key(p) }))
    .filter((r): r is { p: VariantPoint; k: number[] } => r.k !== null)
    .sort((a, b) => (lexLess(a.k, b.k) ? -1 : lexLess(b.k, a.k) ? 1 : 0));

  const dropOf = (p: VariantPoint): number | null => {
    const q = qualityOf(p, kind);
    return q === null || reference === null ? null : reference - q;
  };
  const rejected: Recommendation['rejected'] = [];
  let pick: VariantPoint | null = null;
  for (const { p } of ranked) {
    const drop = dropOf(p);
    if (kind !== null && drop === null) {
      rejected.push({ variantId: p.id, why: `${p.name} has no ${kind} measured, so its quality cannot be checked` });
      continue;
    }
    if (drop !== null && drop > maxDrop + EPS) {
      rejected.push({ variantId: p.id, why: `${p.name} loses ${pts(drop)} of ${kind} (the limit is ${pts(maxDrop)})` });
      continue;
    }
    pick = p;
    break;
  }
  if (!pick) return { goal, variantId: null, reason: noPickReason(goal, ranked.length, maxDrop, kind), rejected };
  return { goal, variantId: pick.id, reason: reasonFor(pick, baseline, goal, kind, maxDrop, reference), rejected };
}

function noPickReason(goal: ResultsGoal, rankable: number, maxDrop: number, kind: QualityKind | null): string {
  if (rankable > 0) return `Every variant loses more than ${pts(maxDrop)} of ${kind}; try a gentler recipe (per-channel weights, more calibration samples, or keeping sensitive layers in float).`;
  switch (goal) {
    case 'cpu-speed':
      return 'No variant has a CPU benchmark yet; benchmark the variants to compare their speed.';
    case 'edgetpu':
      return 'No variant was made or compiled for the Edge TPU yet; make an int8 Edge TPU variant and compile it.';
    case 'custom':
      return 'No variant fits the size and latency budget; relax the budget or make a smaller variant.';
    case 'size':
      return 'No variant has a model file to measure.';
  }
}

function ratioPhrase(base: number | null, value: number | null, better: string, worse: string): string | null {
  if (base === null || value === null || base <= 0 || value <= 0) return null;
  const r = base / value;
  if (r >= 1.05) return `${fmt(r)}× ${better}`;
  if (r <= 1 / 1.05) return `${fmt(1 / r)}× ${worse}`;
  return null;
}

function reasonFor(p: VariantPoint, base: VariantPoint | null, goal: ResultsGoal, kind: QualityKind | null, maxDrop: number, reference: number | null): string {
  const goalWord = { size: 'smaller', 'cpu-speed': 'faster', edgetpu: 'better suited to the Edge TPU', custom: 'more accurate within the budget' }[goal];
  if (base && p.id === base.id) {
    return `${p.name} (the original) is the best choice: no other variant is ${goalWord} while staying within ${pts(maxDrop)} of its ${kind ?? 'quality'}.`;
  }
  const tpu = p.edgetpuOps ? `runs ${p.edgetpuOps.mapped} of ${p.edgetpuOps.total} ops on the Edge TPU` : null;
  const tpuMs = p.edgetpuP50Ms !== null ? `takes ${fmt(p.edgetpuP50Ms, 2)} ms per inference there` : null;
  const q = qualityOf(p, kind);
  let quality: string | null = null;
  if (kind === 'accuracy' && q !== null && reference !== null) {
    const delta = (q - reference) * 100;
    quality = Math.abs(delta) < 0.05 ? 'keeps the same accuracy' : delta < 0 ? `loses ${pts(-delta / 100)} of accuracy` : `gains ${pts(delta / 100)} of accuracy`;
  } else if (kind === 'agreement' && q !== null) {
    quality = `agrees with the original on ${fmt(q * 100)}% of samples`;
  } else {
    quality = 'has no accuracy measured yet';
  }
  if (!base) {
    const what = goal === 'edgetpu' ? tpu ?? 'is the best Edge TPU candidate' : `is the ${{ size: 'smallest', 'cpu-speed': 'fastest', custom: 'most accurate', edgetpu: '' }[goal]} variant`;
    return `${p.name} ${what} that stays within ${pts(maxDrop)} of the best ${kind ?? 'quality'}, and ${quality}.`;
  }
  const comparisons = [
    ratioPhrase(base.sizeBytes, p.sizeBytes, 'smaller', 'larger'),
    ratioPhrase(base.cpuP50Ms, p.cpuP50Ms, 'faster', 'slower'),
  ].filter((s): s is string => s !== null);
  const clauses: string[] = [];
  if (comparisons.length) clauses.push(`is ${comparisons.join(' and ')} than the original`);
  if (goal === 'edgetpu') {
    if (tpu) clauses.push(tpu);
    if (tpuMs) clauses.push(tpuMs);
  }
  if (clauses.length === 0) clauses.push('is about the same size and speed as the original');
  clauses.push(quality);
  const last = clauses.pop()!;
  return `${p.name} ${clauses.join(', ')} and ${last}.`;
}
