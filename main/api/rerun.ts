/**
 * 'history.rerun': a stored variant's recipe with a few changes → a new 'optimize' job on the same model file.
 * Recipes are stored fully expanded (main/optimize/recipe.ts), so the old recipe plus the changes is exactly
 * what gets built. The data comes from the job that built the variant (its params are in the jobs table),
 * unless the caller picked other data. The pipeline stores the result under the same model (it finds the model
 * by path and content), with the model's float variant as parent — a sibling of the variant re-run.
 */
import { existsSync } from 'node:fs';
import type { JobSummary, RecipeChanges, RerunArgs } from '../../preload/contract.ts';
import { parseRecipe, type Recipe } from '../optimize/recipe.ts';
import { datasetArg, type OptimizeJobParams } from '../optimize/ptq/api-params.ts';
import type { DatasetArgs } from '../evaluate/dataset-args.ts';
import { ApiFailure } from './errors.ts';
import type { Services } from './services.ts';

/** The stored recipe with the changes applied; the name says what changed unless one is given. */
export function applyRecipeChanges(recipe: Recipe, c: RecipeChanges): Recipe {
  const next = structuredClone(recipe);
  const changed: string[] = [];
  if (c.calibrationMethod !== undefined && c.calibrationMethod !== next.calibration.method) {
    next.calibration.method = c.calibrationMethod;
    changed.push(c.calibrationMethod);
  }
  if (c.percentile !== undefined && c.percentile !== next.calibration.percentile) {
    next.calibration.percentile = c.percentile;
    changed.push(`p${c.percentile}`);
  }
  if (c.samples !== undefined && c.samples !== next.calibration.samples) {
    next.calibration.samples = c.samples;
    changed.push(`${c.samples} samples`);
  }
  if (c.perChannel !== undefined && c.perChannel !== next.weights.perChannel) {
    next.weights.perChannel = c.perChannel;
    changed.push(c.perChannel ? 'per-channel' : 'per-tensor');
  }
  if (c.biasCorrection !== undefined && c.biasCorrection !== next.biasCorrection) {
    next.biasCorrection = c.biasCorrection;
    changed.push(c.biasCorrection ? 'bias correction' : 'no bias correction');
  }
  if (c.equalization !== undefined && c.equalization !== next.equalization) {
    next.equalization = c.equalization;
    changed.push(c.equalization ? 'equalization' : 'no equalization');
  }
  if (c.fallback !== undefined && c.fallback !== next.fallback.mode) {
    next.fallback.mode = c.fallback;
    changed.push(c.fallback === 'auto' ? 'float fallback' : 'no fallback');
  }
  next.name = c.name ?? (changed.length ? `${recipe.name} (${changed.join(', ')})` : `${recipe.name} (re-run)`);
  return next;
}

/** The optimize job that stored this variant, if it is still in the jobs table. */
function producingJob(s: Services, variantId: string): (OptimizeJobParams & { id: string }) | null {
  for (const job of s.jobs.list(['completed'])) {
    if (job.kind !== 'optimize') continue;
    const ids = (job.result as { variantIds?: unknown } | null)?.variantIds;
    if (Array.isArray(ids) && ids.includes(variantId)) return { ...(job.params as OptimizeJobParams), id: job.id };
  }
  return null;
}

export function rerunJobParams(s: Services, a: RerunArgs): OptimizeJobParams {
  const variant = s.history.getVariant(a.id);
  let recipe: Recipe;
  try {
    recipe = parseRecipe(variant.recipe, `the recipe of "${variant.name}"`);
  } catch (e) {
    throw new ApiFailure(
      'UNSUPPORTED',
      `"${variant.name}" was not built from an optimization recipe (${(e as Error).message}), so there is nothing to re-run.`,
      'Re-run one of the variants built by the Optimize wizard or `edgewise optimize`, or start a new run in the wizard.',
    );
  }
  let next: Recipe;
  try {
    next = parseRecipe(applyRecipeChanges(recipe, a.changes), 'the changed recipe');
  } catch (e) {
    throw new ApiFailure('INVALID_ARGUMENT', (e as Error).message);
  }
  const model = s.history.getModel(variant.modelId);
  if (!existsSync(model.path)) {
    // The path stays in the main process; the message names the model.
    throw new ApiFailure('NOT_FOUND', `The model file of "${model.name}" is no longer where it was imported from.`, 'Put it back, or import it again in the Optimize wizard and build the variant there.');
  }
  const job = producingJob(s, variant.id);
  const data = (picked: RerunArgs['calibration'], recorded: DatasetArgs | undefined) => (picked ? datasetArg(picked, s.files) : recorded);
  const calibration = data(a.calibration, job?.calibration);
  const evaluation = data(a.eval, job?.eval);
  if (next.technique === 'int8' && !calibration) {
    throw new ApiFailure(
      'BAD_DATA',
      `"${variant.name}" is a full integer variant and no calibration data is on record for it (it was not built by an optimize job in this history).`,
      'Choose calibration data for the re-run.',
    );
  }
  return {
    model: model.path,
    recipe: next as unknown as Record<string, unknown>,
    ...(calibration ? { calibration } : {}),
    ...(evaluation ? { eval: evaluation } : {}),
  };
}

export function rerun(s: Services, a: RerunArgs): JobSummary {
  return s.jobs.submit('optimize', rerunJobParams(s, a));
}
