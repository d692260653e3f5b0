/**
 * Job kind 'optimize' (runs in a worker thread, see main/jobs/types.ts): the optimize pipeline with progress
 * stages import → calibrate → quantize → write → evaluate → benchmark → store. Cancel (ctx.signal) stops between
 * and inside stages; the history is only written in the last stage, in one transaction, so a cancelled job
 * stores nothing. The pipeline is deterministic for a given recipe and data, so a resumed job simply reruns it.
 */
import type { JobContext } from '../jobs/types.ts';
import { initJobCompute } from '../jobs/compute.ts';
import { OPTIMIZE_STAGES, runOptimize, type OptimizeParams, type OptimizeStage } from './pipeline.ts';

export interface OptimizeJobResult {
  variantIds: string[];
  modelId: string | null;
  sizeRatio: number;
  accuracyDrop: number | null;
  top1Agreement: number | null;
  p50Ratio: number;
  warnings: string[];
}

/** Share of the job each stage takes, for the overall fraction (calibration dominates). */
const WEIGHT: Record<OptimizeStage, number> = { import: 0.05, calibrate: 0.45, quantize: 0.1, write: 0.02, evaluate: 0.2, benchmark: 0.15, store: 0.03 };

export async function run(params: OptimizeParams, ctx: JobContext): Promise<OptimizeJobResult> {
  // The backend chosen in Settings, selected before the pipeline first touches tfjs.
  ctx.log((await initJobCompute(ctx.dataDir)).line);
  const r = await runOptimize(params, {
    dataDir: ctx.dataDir,
    signal: ctx.signal,
    progress: (stage, fraction, message) => {
      let before = 0;
      for (const s of OPTIMIZE_STAGES) {
        if (s === stage) break;
        before += WEIGHT[s];
      }
      ctx.progress({ stage, fraction: Math.min(1, before + WEIGHT[stage] * fraction), ...(message ? { message } : {}) });
      ctx.throwIfCancelled();
    },
  });
  for (const w of r.warnings) ctx.log(`warning: ${w}`);
  return {
    variantIds: r.stored ? [r.stored.variantId] : [],
    modelId: r.stored?.modelId ?? null,
    sizeRatio: r.sizes.ratio,
    accuracyDrop: r.evaluation?.accuracyDrop ?? null,
    top1Agreement: r.evaluation?.agreement.top1Agreement ?? null,
    p50Ratio: r.benchmark.p50Ratio,
    warnings: r.warnings,
  };
}
