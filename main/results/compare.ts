/**
 * `history.compare`: 2–4 variants side by side as rows (recipe fields, sizes, metrics, benchmarks, Edge TPU
 * mapping, op histograms, stored reports). Every row carries `differs`, so "show differences only" is a filter
 * in the renderer, on by default (the most requested comparison feature: mlflow #5896, netron #705).
 */
import { readFileSync } from 'node:fs';
import { HistoryError, type History, type VariantDetail } from '../history/index.ts';
import { inspectTflite, type ModelInspection } from '../tflite/inspect.ts';
import type { CompareResult, CompareRow } from '../../preload/contract.ts';
import { techniqueOf } from './points.ts';

type Value = CompareRow['values'][number];

/** Flattens a recipe to dotted keys; arrays and leaf values become display values. */
export function flattenRecipe(value: unknown, prefix = '', out: Map<string, Value> = new Map()): Map<string, Value> {
  if (typeof value === 'object' && value !== null && !Array.isArray(value)) {
    for (const [k, v] of Object.entries(value)) flattenRecipe(v, prefix ? `${prefix}.${k}` : k, out);
  } else if (prefix) {
    out.set(prefix, Array.isArray(value) ? (value.length ? value.join(', ') : '—') : (value as Value) ?? null);
  }
  return out;
}

function inspectArtifact(v: VariantDetail): ModelInspection | null {
  if (!v.artifact) return null;
  try {
    return inspectTflite(new Uint8Array(readFileSync(v.artifact.path)), v.artifact.path);
  } catch {
    // Not a readable .tflite (e.g. a checkpoint artifact): the op rows just stay empty for it.
    return null;
  }
}

function report<T>(history: History, v: VariantDetail, kind: string): T | null {
  return v.reportKinds.includes(kind) ? (history.getReport(v.id, kind) as T) : null;
}

export function compareVariants(history: History, ids: string[]): CompareResult {
  if (ids.length < 2 || ids.length > 4) throw new HistoryError('INVALID_ARGUMENT', `Compare takes 2 to 4 variants, got ${ids.length}`);
  if (new Set(ids).size !== ids.length) throw new HistoryError('INVALID_ARGUMENT', 'Compare got the same variant twice');
  const vs = ids.map((id) => history.getVariantDetail(id));
  const rows: CompareRow[] = [];
  const add = (section: CompareRow['section'], label: string, values: Value[], unit?: string) => {
    const first = JSON.stringify(values[0]);
    rows.push({ section, label, values, ...(unit ? { unit } : {}), differs: values.some((x) => JSON.stringify(x) !== first) });
  };
  /** One row per key in the union of the variants' maps, keys in first-seen order. */
  const addKeyed = (section: CompareRow['section'], maps: Map<string, Value>[], unit?: (key: string) => string | undefined) => {
    const keys = [...new Set(maps.flatMap((m) => [...m.keys()]))];
    for (const k of keys) add(section, k, maps.map((m) => m.get(k) ?? null), unit?.(k));
  };

  const modelNames = new Map<string, string>();
  const modelName = (id: string) => modelNames.get(id) ?? modelNames.set(id, history.getModel(id).name).get(id)!;
  add('Overview', 'Model', vs.map((v) => modelName(v.modelId)));
  add('Overview', 'Technique', vs.map((v) => techniqueOf(v.recipe)));
  add('Overview', 'Made from', vs.map((v) => (v.parentId ? history.getVariant(v.parentId).name : 'the original model')));
  add('Overview', 'Status', vs.map((v) => v.status));
  add('Overview', 'Created', vs.map((v) => v.createdAt));

  addKeyed('Recipe', vs.map((v) => flattenRecipe(v.recipe)));

  add('Size', 'File size', vs.map((v) => v.artifact?.size ?? null), 'bytes');
  add('Size', 'Gzipped size', vs.map((v) => v.artifact?.gzipSize ?? null), 'bytes');

  addKeyed('Metrics', vs.map((v) => {
    const m = new Map<string, Value>();
    for (const x of v.metrics) {
      const key = x.datasetId ? `${x.name} (dataset ${x.datasetId.slice(0, 8)})` : x.name;
      m.set(key, x.value); // later measurements replace earlier ones
    }
    return m;
  }));

  addKeyed(
    'Benchmarks',
    vs.map((v) => {
      const m = new Map<string, Value>();
      for (const b of v.benchmarks) {
        // The latest benchmark per runtime wins (rows are oldest first).
        m.set(`${b.runtime} median`, b.warmP50Ms);
        m.set(`${b.runtime} p90`, b.warmP90Ms);
        m.set(`${b.runtime} first run`, b.coldMs);
      }
      return m;
    }),
    () => 'ms',
  );

  const compiled = vs.map((v) => report<{ tpuOps?: number; cpuOps?: number; totalOps?: number; subgraphCount?: number; onChipMemoryUsedBytes?: number; offChipMemoryUsedBytes?: number }>(history, v, 'edgetpu-compiler'));
  if (compiled.some((c) => c !== null)) {
    add('Edge TPU', 'Ops on the Edge TPU', compiled.map((c) => c?.tpuOps ?? null));
    add('Edge TPU', 'Ops on the CPU', compiled.map((c) => c?.cpuOps ?? null));
    add('Edge TPU', 'Edge TPU subgraphs', compiled.map((c) => c?.subgraphCount ?? null));
    add('Edge TPU', 'On-chip parameter memory', compiled.map((c) => c?.onChipMemoryUsedBytes ?? null), 'bytes');
    add('Edge TPU', 'Off-chip (streamed) parameter memory', compiled.map((c) => c?.offChipMemoryUsedBytes ?? null), 'bytes');
  }

  const inspections = vs.map(inspectArtifact);
  if (inspections.some((i) => i !== null)) {
    add('Ops', 'Parameters', inspections.map((i) => i?.parameterCount ?? null));
    add('Ops', 'Quantized tensors', inspections.map((i) => i?.quantizedTensors.length ?? null));
    const opNames = [...new Set(inspections.flatMap((i) => Object.keys(i?.opHistogram ?? {})))].sort();
    for (const op of opNames) add('Ops', op, inspections.map((i) => (i ? i.opHistogram[op] ?? 0 : null)));
  }

  add('Reports', 'Stored reports', vs.map((v) => (v.reportKinds.length ? v.reportKinds.join(', ') : null)));
  return { variants: vs.map((v) => ({ id: v.id, name: v.name, modelId: v.modelId })), rows };
}
