/**
 * `results.summary`: the variants of a model (or those one job produced, next to the model's original), their
 * Pareto fronts and the recommended pick for the user's goal.
 */
import { HistoryError, type History } from '../history/index.ts';
import type { CustomGoal, ResultsGoal, ResultsSummary, VariantSummary } from '../../preload/contract.ts';
import { variantPoints } from './points.ts';
import { DEFAULT_MAX_ACCURACY_DROP, paretoFront, qualityKind, recommend } from './recommend.ts';

export interface SummaryArgs {
  modelId?: string;
  jobId?: string;
  goal?: ResultsGoal;
  maxAccuracyDrop?: number;
  custom?: CustomGoal;
}

/** Variant ids a job reports in its result: `{variantIds}`, `{variants:[{id}]}` or `{variantId}`. */
export function variantIdsOfJob(result: unknown): string[] {
  if (typeof result !== 'object' || result === null) return [];
  const r = result as { variantIds?: unknown; variants?: unknown; variantId?: unknown };
  const ids: unknown[] = [];
  if (Array.isArray(r.variantIds)) ids.push(...r.variantIds);
  if (Array.isArray(r.variants)) ids.push(...r.variants.map((v) => (typeof v === 'object' && v !== null ? (v as { id?: unknown }).id : v)));
  if (r.variantId !== undefined) ids.push(r.variantId);
  return [...new Set(ids.filter((id): id is string => typeof id === 'string'))];
}

export function resultsSummary(history: History, args: SummaryArgs): ResultsSummary {
  let modelId = args.modelId;
  let variants: VariantSummary[];
  if (args.jobId) {
    const job = history.getJob(args.jobId);
    const ids = variantIdsOfJob(job.result);
    if (ids.length === 0) {
      throw new HistoryError('NOT_FOUND', `Job ${args.jobId} (${job.kind}, ${job.state}) has not produced any variants yet`, 'Wait for the job to complete.');
    }
    const produced = ids.map((id) => history.getVariant(id));
    modelId ??= produced[0]!.modelId;
    if (produced.some((v) => v.modelId !== modelId)) {
      throw new HistoryError('INVALID_ARGUMENT', `Job ${args.jobId} produced variants of another model than ${modelId}`);
    }
    // The model's other root variants stay in, so the original is there to compare with.
    const roots = history.variantsOfModel(modelId).filter((v) => v.parentId === null && !ids.includes(v.id));
    variants = [...roots, ...produced];
  } else if (modelId) {
    variants = history.variantsOfModel(modelId);
  } else {
    throw new HistoryError('INVALID_ARGUMENT', 'results.summary needs a modelId or a jobId');
  }
  const points = variantPoints(history, variants);
  const kind = qualityKind(points);
  const maxAccuracyDrop = args.maxAccuracyDrop ?? DEFAULT_MAX_ACCURACY_DROP;
  return {
    modelId,
    baselineId: points.find((p) => p.isBaseline)?.id ?? null,
    quality: kind,
    maxAccuracyDrop,
    variants: points,
    fronts: {
      size: paretoFront(points, (p) => p.sizeBytes, kind),
      cpuLatency: paretoFront(points, (p) => p.cpuP50Ms, kind),
    },
    recommendation: recommend(points, { goal: args.goal ?? 'size', maxAccuracyDrop, ...(args.custom ? { custom: args.custom } : {}) }),
  };
}
