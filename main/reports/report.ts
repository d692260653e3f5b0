/**
 * The report of a model's variants (HTML or Markdown): a table of all variants, the recommended pick with its
 * reason, then per variant its recipe, metrics, benchmarks, Edge TPU mapping, per-layer sensitivity and
 * confusion matrix when stored. Built once as a `ReportDocument`, rendered by main/reports/document.ts.
 */
import { writeFileSync, renameSync } from 'node:fs';
import type { History } from '../history/index.ts';
import type { ResultsGoal, VariantPoint } from '../../preload/contract.ts';
import { resultsSummary } from '../results/summary.ts';
import { flattenRecipe } from '../results/compare.ts';
import { renderHtml, renderMarkdown, type Block, type ReportDocument } from './document.ts';

/** Report kinds rendered as per-layer sensitivity / confusion matrix (whatever their producer named them). */
const SENSITIVITY_KINDS = ['sensitivity'];
const CONFUSION_KINDS = ['confusion-matrix', 'confusion'];

const mb = (b: number | null) => (b === null ? '—' : b >= 1e6 ? `${(b / 1e6).toFixed(2)} MB` : `${(b / 1e3).toFixed(1)} kB`);
const pct = (x: number | null) => (x === null ? '—' : `${(x * 100).toFixed(2)}%`);
const ms = (x: number | null | undefined) => (x == null ? '—' : `${x.toFixed(2)} ms`);
const str = (v: unknown): string => (v === null || v === undefined ? '—' : typeof v === 'number' ? (Number.isInteger(v) ? String(v) : v.toPrecision(4)) : typeof v === 'string' ? v : JSON.stringify(v));

/** Renders report JSON we do not know the exact shape of: a matrix, a list of rows, key/values, or raw JSON. */
export function jsonBlocks(json: unknown): Block[] {
  const asMatrix = (m: unknown): m is number[][] => Array.isArray(m) && m.length > 0 && m.every((r) => Array.isArray(r) && r.every((x) => typeof x === 'number'));
  const obj = typeof json === 'object' && json !== null && !Array.isArray(json) ? (json as Record<string, unknown>) : null;
  const matrix = asMatrix(json) ? json : obj && asMatrix(obj.matrix) ? obj.matrix : null;
  if (matrix) {
    const labels = obj && Array.isArray(obj.labels) ? obj.labels.map(str) : matrix.map((_, i) => String(i));
    return [
      { type: 'para', text: 'Rows: true class; columns: predicted class.' },
      { type: 'table', headers: ['', ...labels], rows: matrix.map((r, i) => [labels[i] ?? String(i), ...r.map(str)]), numeric: labels.map((_, i) => i + 1) },
    ];
  }
  const rowsOf = (x: unknown): Record<string, unknown>[] | null =>
    Array.isArray(x) && x.length > 0 && x.every((r) => typeof r === 'object' && r !== null && !Array.isArray(r)) ? (x as Record<string, unknown>[]) : null;
  const list = rowsOf(json) ?? (obj ? rowsOf(Object.values(obj).find((v) => rowsOf(v))) : null);
  if (list) {
    const headers = [...new Set(list.flatMap((r) => Object.keys(r)))];
    const numeric = headers.map((h, i) => (list.every((r) => r[h] == null || typeof r[h] === 'number') ? i : -1)).filter((i) => i >= 0);
    return [{ type: 'table', headers, rows: list.map((r) => headers.map((h) => str(r[h]))), numeric }];
  }
  if (obj) return [{ type: 'kv', pairs: Object.entries(obj).map(([k, v]) => [k, str(v)]) }];
  return [{ type: 'pre', text: JSON.stringify(json, null, 2) }];
}

export function buildReport(history: History, modelId: string, goal: ResultsGoal = 'size'): ReportDocument {
  const model = history.getModel(modelId);
  const summary = resultsSummary(history, { modelId, goal });
  const byId = new Map(summary.variants.map((p) => [p.id, p]));
  const pick = summary.recommendation.variantId ? byId.get(summary.recommendation.variantId)! : null;
  const blocks: Block[] = [
    { type: 'heading', level: 1, text: `Edgewise report: ${model.name}` },
    {
      type: 'kv',
      pairs: [
        ['Model', model.name],
        ['Format', model.format],
        ['Parameters', String(model.parameterCount ?? '—')],
        ['sha256', model.sha256],
        ['Variants', String(summary.variants.length)],
        ['Generated', new Date().toISOString()],
      ],
    },
    { type: 'heading', level: 2, text: 'Recommended' },
    { type: 'para', strong: true, text: pick ? `${pick.name}: ${summary.recommendation.reason}` : summary.recommendation.reason },
  ];
  if (summary.recommendation.rejected.length) {
    blocks.push({ type: 'para', text: `Passed over: ${summary.recommendation.rejected.map((r) => r.why).join('; ')}.` });
  }
  blocks.push({ type: 'heading', level: 2, text: 'Variants' });
  if (summary.variants.length === 0) blocks.push({ type: 'para', text: 'No variants yet.' });
  else blocks.push(variantTable(summary.variants, summary.recommendation.variantId));

  for (const p of summary.variants) {
    const v = history.getVariantDetail(p.id);
    blocks.push({ type: 'heading', level: 2, text: `${p.name}${p.isBaseline ? ' (original)' : ''}` });
    blocks.push({ type: 'kv', pairs: [['Id', v.id], ['Made from', v.parentId ? (byId.get(v.parentId)?.name ?? v.parentId) : 'the original model'], ['Status', v.status], ['Created', v.createdAt], ['sha256', v.artifact?.sha256 ?? '—']] });
    const recipe = [...flattenRecipe(v.recipe)];
    if (recipe.length) {
      blocks.push({ type: 'heading', level: 3, text: 'Recipe' });
      blocks.push({ type: 'kv', pairs: recipe.map(([k, val]) => [k, str(val)]) });
    }
    if (v.metrics.length) {
      blocks.push({ type: 'heading', level: 3, text: 'Metrics' });
      blocks.push({ type: 'table', headers: ['Metric', 'Value', 'Dataset'], rows: v.metrics.map((m) => [m.name, str(m.value), m.datasetId ?? '—']), numeric: [1] });
    }
    if (v.benchmarks.length) {
      blocks.push({ type: 'heading', level: 3, text: 'Benchmarks' });
      blocks.push({
        type: 'table',
        headers: ['Runtime', 'First run', 'Min', 'Median', 'p90', 'p99', 'Runs'],
        rows: v.benchmarks.map((b) => [b.runtime, ms(b.coldMs), ms(b.warmMinMs), ms(b.warmP50Ms), ms(b.warmP90Ms), ms(b.warmP99Ms), String(b.runs)]),
        numeric: [1, 2, 3, 4, 5, 6],
      });
    }
    if (v.reportKinds.includes('edgetpu-compiler')) {
      const r = history.getReport(v.id, 'edgetpu-compiler') as { ops?: { op: string; count: number; status: string }[] };
      blocks.push({ type: 'heading', level: 3, text: 'Edge TPU compiler' });
      if (p.edgetpuOps) blocks.push({ type: 'para', text: `${p.edgetpuOps.mapped} of ${p.edgetpuOps.total} ops run on the Edge TPU.` });
      if (r.ops?.length) blocks.push({ type: 'table', headers: ['Operator', 'Count', 'Status'], rows: r.ops.map((o) => [o.op, String(o.count), o.status]), numeric: [1] });
    }
    const sensitivity = SENSITIVITY_KINDS.find((k) => v.reportKinds.includes(k));
    if (sensitivity) {
      blocks.push({ type: 'heading', level: 3, text: 'Per-layer sensitivity' });
      blocks.push(...jsonBlocks(history.getReport(v.id, sensitivity)));
    }
    const confusion = confusionOf(history, v.id, v.reportKinds);
    if (confusion) {
      blocks.push({ type: 'heading', level: 3, text: 'Confusion matrix' });
      blocks.push(...jsonBlocks(confusion));
    }
  }
  return { title: `Edgewise report: ${model.name}`, blocks };
}

/** A stored confusion matrix, or the one in the optimize pipeline's 'evaluation' report (`variant.confusion`). */
function confusionOf(history: History, id: string, kinds: string[]): unknown {
  const kind = CONFUSION_KINDS.find((k) => kinds.includes(k));
  if (kind) return history.getReport(id, kind);
  if (!kinds.includes('evaluation')) return null;
  const ev = history.getReport(id, 'evaluation') as { variant?: { confusion?: unknown } };
  return ev.variant?.confusion ?? null;
}

function variantTable(points: VariantPoint[], pickId: string | null): Block {
  return {
    type: 'table',
    headers: ['Variant', 'Technique', 'Size', 'Gzipped', 'Accuracy', 'Agreement', 'CPU median', 'Edge TPU median', 'Ops on Edge TPU'],
    rows: points.map((p) => [
      `${p.name}${p.id === pickId ? ' ★ recommended' : ''}${p.isBaseline ? ' (original)' : ''}`,
      p.technique ?? '—',
      mb(p.sizeBytes),
      mb(p.gzipBytes),
      pct(p.accuracy),
      pct(p.agreement),
      ms(p.cpuP50Ms),
      ms(p.edgetpuP50Ms),
      p.edgetpuOps ? `${p.edgetpuOps.mapped}/${p.edgetpuOps.total}` : '—',
    ]),
    numeric: [2, 3, 4, 5, 6, 7],
  };
}

/** Writes the report atomically (temp file + rename) to `path`; returns the byte count. */
export function exportReport(history: History, args: { modelId: string; format: 'html' | 'markdown'; path: string; goal?: ResultsGoal }): { bytes: number } {
  const doc = buildReport(history, args.modelId, args.goal);
  const text = args.format === 'html' ? renderHtml(doc) : renderMarkdown(doc);
  const tmp = `${args.path}.${process.pid}.tmp`;
  writeFileSync(tmp, text);
  renameSync(tmp, args.path);
  return { bytes: Buffer.byteLength(text) };
}
