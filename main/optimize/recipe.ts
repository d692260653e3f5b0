/**
 * Optimization recipes: JSON documents with EVERY option explicit, so a stored variant can be rebuilt exactly.
 * `resolveRecipe('int8')` expands a preset; `resolveRecipe('my.json')` reads a file, where omitted fields take the
 * preset's values for its technique. What is stored in the history is always the fully expanded recipe.
 */
import { readFileSync } from 'node:fs';
import { z } from 'zod';

export const RECIPE_PRESETS = ['fp16', 'dynamic', 'int8', 'int8-edgetpu'] as const;
export type RecipePreset = (typeof RECIPE_PRESETS)[number];

const ioType = z.enum(['float32', 'int8', 'uint8']);
const method = z.enum(['minmax', 'percentile', 'mse', 'kl']);

export const recipeSchema = z.object({
  version: z.literal(1),
  technique: z.enum(['float16', 'dynamic-range', 'int8']),
  /** Name shown in the history (default: the preset name). */
  name: z.string().min(1),
  calibration: z.object({
    /** Range selection on activation histograms; minmax is the TFLite converter's behaviour. */
    method,
    /** For method 'percentile'. */
    percentile: z.number().gt(50).lte(100),
    /** Representative samples used (the first N of the calibration dataset). */
    samples: z.number().int().positive(),
  }).strict(),
  weights: z.object({
    /** Per-channel CONV_2D / DEPTHWISE_CONV_2D weights (false → per-tensor, for targets that need it). */
    perChannel: z.boolean(),
    /** Per-channel FULLY_CONNECTED weights (older TFLM / some NPUs need per-tensor). */
    perChannelDense: z.boolean(),
    /**
     * int8: run FULLY_CONNECTED as a 1×1 CONV_2D (same function; int8 FC is not XNNPACK-accelerated in the TFLite
     * WASM runtime, int8 conv is). Off for the Edge TPU preset, whose compiler maps FC natively.
     */
    denseAsConv: z.boolean(),
    /** Dynamic range: weights with fewer elements stay float. */
    dynamicRangeMinElements: z.number().int().positive(),
  }).strict(),
  io: z.object({ input: ioType, output: ioType }).strict(),
  /** Edge TPU mode: no float op may remain; an unquantizable op is an error naming it. */
  integerOnly: z.boolean(),
  /** Empirical bias correction of conv/FC outputs after weight quantization. */
  biasCorrection: z.boolean(),
  /** Cross-layer equalization of depthwise → conv pairs with a ReLU (or NONE) between them. */
  equalization: z.boolean(),
  fallback: z.object({
    /** 'auto': keep the most sensitive layers float until the target is met; 'manual': the listed ops. */
    mode: z.enum(['none', 'auto', 'manual']),
    floatOps: z.array(z.string()),
    /** Auto: minimum top-1 agreement with the float model on the check data (0..1). */
    minAgreement: z.number().min(0).max(1),
    /** Auto: maximum accuracy drop (absolute, 0.003 = 0.3 points) when labels are available. */
    maxAccuracyDrop: z.number().min(0).max(1),
    /** Auto: give up after this many float ops. */
    maxFloatOps: z.number().int().nonnegative(),
  }).strict(),
}).strict();

export type Recipe = z.infer<typeof recipeSchema>;

/** The default calibration method: what measured best on our models (docs/ptq.md, `npm run bench:ptq`). */
export const DEFAULT_CALIBRATION_METHOD: Recipe['calibration']['method'] = 'percentile';
export const DEFAULT_PERCENTILE = 99.999;

const BASE: Omit<Recipe, 'technique' | 'name'> = {
  version: 1,
  calibration: { method: DEFAULT_CALIBRATION_METHOD, percentile: DEFAULT_PERCENTILE, samples: 500 },
  weights: { perChannel: true, perChannelDense: true, denseAsConv: true, dynamicRangeMinElements: 1024 },
  io: { input: 'float32', output: 'float32' },
  integerOnly: false,
  biasCorrection: true,
  equalization: false,
  fallback: { mode: 'none', floatOps: [], minAgreement: 0.99, maxAccuracyDrop: 0.003, maxFloatOps: 8 },
};

export function presetRecipe(preset: RecipePreset): Recipe {
  const base = structuredClone(BASE);
  switch (preset) {
    case 'fp16':
      return { ...base, technique: 'float16', name: 'fp16' };
    case 'dynamic':
      return { ...base, technique: 'dynamic-range', name: 'dynamic' };
    case 'int8':
      return { ...base, technique: 'int8', name: 'int8' };
    case 'int8-edgetpu':
      // The Edge TPU runs only integer ops with integer I/O; uint8 I/O matches the Coral examples.
      return {
        ...base, technique: 'int8', name: 'int8-edgetpu', io: { input: 'uint8', output: 'uint8' }, integerOnly: true,
        weights: { ...base.weights, denseAsConv: false },
      };
  }
}

type DeepPartial<T> = { [K in keyof T]?: T[K] extends object ? (T[K] extends unknown[] ? T[K] : DeepPartial<T[K]>) : T[K] };

/** Validates a (partial) recipe, filling omitted fields from the preset of its technique. */
export function parseRecipe(input: unknown, where = 'recipe'): Recipe {
  if (typeof input !== 'object' || input === null || Array.isArray(input)) throw new Error(`${where}: a recipe must be a JSON object`);
  const partial = input as DeepPartial<Recipe>;
  const technique = partial.technique;
  const preset: RecipePreset = technique === 'float16' ? 'fp16' : technique === 'dynamic-range' ? 'dynamic' : 'int8';
  if (technique !== undefined && !['float16', 'dynamic-range', 'int8'].includes(technique)) {
    throw new Error(`${where}: technique must be float16, dynamic-range or int8, got ${JSON.stringify(technique)}`);
  }
  if (technique === undefined) throw new Error(`${where}: missing "technique" (float16, dynamic-range or int8)`);
  const base = presetRecipe(preset);
  const merged = {
    ...base, ...partial,
    calibration: { ...base.calibration, ...partial.calibration },
    weights: { ...base.weights, ...partial.weights },
    io: { ...base.io, ...partial.io },
    fallback: { ...base.fallback, ...partial.fallback },
  };
  const r = recipeSchema.safeParse(merged);
  if (!r.success) {
    const issue = r.error.issues[0]!;
    throw new Error(`${where}: ${issue.path.join('.') || '(root)'}: ${issue.message}`);
  }
  const recipe = r.data;
  if (recipe.integerOnly && (recipe.io.input === 'float32' || recipe.io.output === 'float32')) {
    throw new Error(`${where}: integerOnly (Edge TPU) needs int8 or uint8 model inputs and outputs, not float32`);
  }
  if (recipe.integerOnly && recipe.fallback.mode !== 'none') throw new Error(`${where}: integerOnly cannot keep layers in float (fallback must be "none")`);
  return recipe;
}

/** A preset name or a path to a JSON recipe file. */
export function resolveRecipe(nameOrPath: string): Recipe {
  if ((RECIPE_PRESETS as readonly string[]).includes(nameOrPath)) return presetRecipe(nameOrPath as RecipePreset);
  let text: string;
  try {
    text = readFileSync(nameOrPath, 'utf8');
  } catch {
    throw new Error(`Recipe "${nameOrPath}" is neither a preset (${RECIPE_PRESETS.join(', ')}) nor a readable JSON file`);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    throw new Error(`Recipe file ${nameOrPath}: invalid JSON (${e instanceof Error ? e.message : e})`);
  }
  return parseRecipe(json, `Recipe file ${nameOrPath}`);
}
