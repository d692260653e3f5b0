/**
 * One zod schema per API method, for its arguments. Objects are strict: an unknown key is an error, so a typo
 * in the renderer fails loudly instead of being ignored. `satisfies` keeps this table in step with the
 * contract: a method added to `ApiMethods` without a schema here is a type error.
 */
import { z } from 'zod';
import type { ApiMethod } from '../../preload/contract.ts';
import { settingsPatchSchema } from '../settings.ts';

const id = z.string().min(1).max(200);
const goal = z.enum(['size', 'cpu-speed', 'edgetpu', 'custom']);
const calibrationMethod = z.enum(['minmax', 'percentile', 'mse', 'kl']);
const jobState = z.enum(['queued', 'running', 'completed', 'failed', 'cancelled', 'interrupted']);

const historyList = z.strictObject({
  search: z.string().max(500).optional(),
  modelId: id.optional(),
  sort: z.enum(['created', 'name', 'size']).optional(),
  order: z.enum(['asc', 'desc']).optional(),
  limit: z.number().int().min(1).max(1000).optional(),
  offset: z.number().int().min(0).optional(),
});

/** main/data's Preprocessing, partial: the dataset step's overrides of what the model implies. */
const preprocessing = z.strictObject({
  resize: z.strictObject({ height: z.number().int().min(1).max(8192), width: z.number().int().min(1).max(8192) }).optional(),
  centerCrop: z.number().gt(0).lte(1).optional(),
  scale: z.enum(['unit', 'symmetric', 'raw']).optional(),
  mean: z.array(z.number()).min(1).max(4).optional(),
  std: z.array(z.number().positive()).min(1).max(4).optional(),
  channelOrder: z.enum(['RGB', 'BGR']).optional(),
  channels: z.number().int().min(1).max(4).optional(),
});

const optimizeDataset = z.strictObject({
  file: id,
  preprocessing: preprocessing.pick({ scale: true, mean: true, std: true, resize: true }).optional(),
  limit: z.number().int().min(1).optional(),
});

export const argSchemas = {
  'app.doctor': z.strictObject({}),
  'history.listModels': historyList,
  'history.listVariants': historyList,
  'history.getVariant': z.strictObject({ id }),
  'jobs.list': z.strictObject({ states: z.array(jobState).optional() }),
  'jobs.cancel': z.strictObject({ id }),
  'jobs.resume': z.strictObject({ id }),
  'jobs.discard': z.strictObject({ id }),
  'files.pick': z.strictObject({ purpose: z.enum(['model', 'dataset', 'export']), folder: z.boolean().optional() }),
  'devices.list': z.strictObject({}),
  // No file paths from the renderer: it deploys variants by id (files come through the CLI).
  'devices.deploy': z.strictObject({ variantId: id, device: z.string().max(100).optional(), runs: z.number().int().min(1).max(10000).optional() }),
  'devices.doctor': z.strictObject({}),
  'devices.compile': z.strictObject({ variantId: id }),
  'models.inspect': z.strictObject({ file: id }),
  'datasets.inspect': z.strictObject({ file: id, modelId: id.optional(), preprocessing: preprocessing.optional() }),
  'history.variantPage': z.strictObject({ id }),
  'results.summary': z
    .strictObject({
      modelId: id.optional(),
      jobId: id.optional(),
      goal: goal.optional(),
      maxAccuracyDrop: z.number().min(0).max(1).optional(),
      custom: z.strictObject({ maxSizeBytes: z.number().positive().optional(), maxCpuLatencyMs: z.number().positive().optional() }).optional(),
    })
    .refine((a) => a.modelId !== undefined || a.jobId !== undefined, 'give a modelId or a jobId'),
  'history.compare': z.strictObject({ ids: z.array(id).min(2).max(4) }),
  'history.delete': z.strictObject({ id, withDescendants: z.boolean().optional() }),
  'history.exportArtifact': z.strictObject({ id, handle: id }),
  'reports.export': z.strictObject({ modelId: id, format: z.enum(['html', 'markdown']), handle: id, goal: goal.optional() }),
  'catalog.list': z.strictObject({}),
  'catalog.download': z.strictObject({ id }),
  'optimize.start': z.strictObject({
    model: id,
    recipe: z.enum(['fp16', 'dynamic', 'int8', 'int8-edgetpu']),
    calibration: optimizeDataset.optional(),
    eval: optimizeDataset.optional(),
    calibrationMethod: calibrationMethod.optional(),
    fallback: z.enum(['none', 'auto']).optional(),
  }),
  'history.rerun': z.strictObject({
    id,
    changes: z.strictObject({
      name: z.string().trim().min(1).max(200).optional(),
      calibrationMethod: calibrationMethod.optional(),
      percentile: z.number().gt(50).lte(100).optional(),
      samples: z.number().int().min(1).max(1_000_000).optional(),
      perChannel: z.boolean().optional(),
      biasCorrection: z.boolean().optional(),
      equalization: z.boolean().optional(),
      fallback: z.enum(['none', 'auto']).optional(),
    }),
    calibration: optimizeDataset.optional(),
    eval: optimizeDataset.optional(),
  }),
  'samples.list': z.strictObject({}),
  'settings.get': z.strictObject({}),
  'settings.set': settingsPatchSchema,
} satisfies Record<ApiMethod, z.ZodType>;

/** "history.listModels: limit: Too big: expected number to be <=1000; sort: …" — names every bad field. */
export function describeIssues(method: string, error: z.ZodError): string {
  const parts = error.issues.map((issue) => {
    const where = issue.path.length ? issue.path.join('.') : 'arguments';
    return `${where}: ${issue.message}`;
  });
  return `${method}: ${parts.join('; ')}`;
}
