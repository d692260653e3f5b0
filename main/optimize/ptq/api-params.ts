/**
 * 'optimize.start' API arguments → the optimize job's params. Kept free of heavy imports (tfjs, the runtime):
 * the API layer runs in the main process, the pipeline in a worker. The renderer only names picked-file
 * handles; they are resolved to paths here, in the main process.
 */
import type { OptimizeDatasetArg, OptimizeStartArgs } from '../../../preload/contract.ts';
import type { FileHandles } from '../../api/files.ts';
import type { DatasetArgs } from '../../evaluate/dataset-args.ts';
import { presetRecipe } from '../recipe.ts';

export interface OptimizeJobParams {
  model: string;
  recipe: Record<string, unknown>;
  calibration?: DatasetArgs;
  eval?: DatasetArgs;
}

/** A picked dataset (handle + overrides) → the pipeline's dataset arguments. */
export function datasetArg(d: OptimizeDatasetArg, files: FileHandles): DatasetArgs {
  const p = d.preprocessing ?? {};
  return {
    location: files.resolve(d.file, 'dataset'),
    ...(p.scale ? { scale: p.scale } : {}),
    ...(p.mean ? { mean: p.mean } : {}),
    ...(p.std ? { std: p.std } : {}),
    ...(p.resize ? { size: `${p.resize.height}x${p.resize.width}` } : {}),
    ...(d.limit ? { limit: d.limit } : {}),
  };
}

export function optimizeJobParams(a: OptimizeStartArgs, files: FileHandles): OptimizeJobParams {
  const recipe = presetRecipe(a.recipe);
  if (a.calibrationMethod) recipe.calibration.method = a.calibrationMethod;
  if (a.fallback) recipe.fallback.mode = a.fallback;
  return {
    model: files.resolve(a.model, 'model'),
    recipe: recipe as unknown as Record<string, unknown>,
    ...(a.calibration ? { calibration: datasetArg(a.calibration, files) } : {}),
    ...(a.eval ? { eval: datasetArg(a.eval, files) } : {}),
  };
}
