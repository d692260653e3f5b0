/**
 * Reducing stored variants to the numbers the results screens rank and plot (`VariantPoint`): size, gzip size,
 * accuracy, agreement, CPU and Edge TPU latency, ops on the Edge TPU. The metric names and benchmark runtimes the
 * pipeline stores are listed once here; everything else in main/results reads points, not rows.
 */
import type { History, BenchmarkRecord } from '../history/index.ts';
import type { VariantPoint, VariantSummary } from '../../preload/contract.ts';

/** Metric names holding top-1 accuracy on labelled data (0..1), first match wins. */
export const ACCURACY_METRICS = ['accuracy', 'top1', 'top1_accuracy'];
/** Metric names holding top-1 agreement with the original model (0..1). */
export const AGREEMENT_METRICS = ['agreement', 'top1_agreement'];
/** Benchmark runtimes that measure the host CPU / a Coral Edge TPU. */
export const CPU_RUNTIMES = ['tflite-wasm', 'tflite-cpu', 'tflite'];
export const EDGETPU_RUNTIMES = ['edgetpu-usb', 'edgetpu'];
/** recipe.technique values that mark the original (float) model converted as is. */
const BASELINE_TECHNIQUES = new Set(['convert', 'float32', 'baseline', 'none']);

export function techniqueOf(recipe: unknown): string | null {
  if (typeof recipe !== 'object' || recipe === null) return null;
  const r = recipe as { technique?: unknown; kind?: unknown };
  if (typeof r.technique === 'string') return r.technique;
  if (typeof r.kind === 'string') return r.kind;
  return null;
}

/** The highest value of the first of `names` the variant has (a re-evaluation never lowers what is shown). */
export function metricOf(v: VariantSummary, names: string[]): number | null {
  for (const name of names) {
    const values = v.metrics.filter((m) => m.name === name).map((m) => m.value);
    if (values.length) return Math.max(...values);
  }
  return null;
}

function bestP50(benchmarks: BenchmarkRecord[], runtimes: string[]): number | null {
  const p50s = benchmarks.filter((b) => runtimes.includes(b.runtime)).map((b) => b.warmP50Ms);
  return p50s.length ? Math.min(...p50s) : null;
}

/** Ops on the Edge TPU: the compiler's report when the variant was compiled, else our own prediction. */
function edgetpuOpsOf(history: History, id: string, reportKinds: string[]): VariantPoint['edgetpuOps'] {
  if (reportKinds.includes('edgetpu-compiler')) {
    const r = history.getReport(id, 'edgetpu-compiler') as { tpuOps?: number; cpuOps?: number; totalOps?: number };
    if (typeof r.tpuOps === 'number') return { mapped: r.tpuOps, total: r.totalOps ?? r.tpuOps + (r.cpuOps ?? 0) };
  }
  if (reportKinds.includes('edgetpu-compat')) {
    const r = history.getReport(id, 'edgetpu-compat') as { mappedCount?: number; cpuCount?: number };
    if (typeof r.mappedCount === 'number') return { mapped: r.mappedCount, total: r.mappedCount + (r.cpuCount ?? 0) };
  }
  return null;
}

/**
 * Points for the given variants. The baseline is the variant whose recipe says it is the converted original;
 * failing that, the oldest variant made straight from the model (parentId null).
 */
export function variantPoints(history: History, variants: VariantSummary[]): VariantPoint[] {
  const baselineId =
    variants.find((v) => BASELINE_TECHNIQUES.has(techniqueOf(v.recipe) ?? ''))?.id ??
    [...variants].filter((v) => v.parentId === null).sort((a, b) => a.createdAt.localeCompare(b.createdAt))[0]?.id ??
    null;
  const extras = history.benchmarksAndReportKinds(variants.map((v) => v.id));
  return variants.map((v) => {
    const detail = extras.get(v.id)!;
    const isBaseline = v.id === baselineId;
    return {
      id: v.id,
      name: v.name,
      parentId: v.parentId,
      technique: techniqueOf(v.recipe),
      status: v.status,
      createdAt: v.createdAt,
      sizeBytes: v.artifact?.size ?? null,
      gzipBytes: v.artifact?.gzipSize ?? null,
      accuracy: metricOf(v, ACCURACY_METRICS),
      // The original agrees with itself; without this it could never be on an agreement front.
      agreement: metricOf(v, AGREEMENT_METRICS) ?? (isBaseline ? 1 : null),
      cpuP50Ms: bestP50(detail.benchmarks, CPU_RUNTIMES),
      edgetpuP50Ms: bestP50(detail.benchmarks, EDGETPU_RUNTIMES),
      edgetpuOps: edgetpuOpsOf(history, v.id, detail.reportKinds),
      isBaseline,
    };
  });
}
