/**
 * `edgewise optimize <model> --recipe <fp16|dynamic|int8|int8-edgetpu|file.json> [--calibration <dataset>]
 * [--eval <dataset>] [--out <dir>] [--json]`: build the variant, evaluate it (labelled or reference agreement),
 * benchmark it against the float model, and store everything in the history with its lineage.
 * Recipe overrides on the command line (--calibration-method, --fallback auto, --per-tensor) are written into the
 * stored recipe, so the variant stays reproducible from its record alone.
 */
import { CliError, type CliCommand } from '../command.ts';
import { runOptimize, type OptimizeResult } from '../../optimize/pipeline.ts';
import { resolveRecipe, parseRecipe, RECIPE_PRESETS } from '../../optimize/recipe.ts';
import { RANGE_METHODS } from '../../optimize/quantize/calibration.ts';
import { withCode } from '../../evaluate/errors.ts';
import { DATASET_FLAGS, DATASET_USAGE, datasetArgs, positiveInt } from './dataset-flags.ts';

export const optimize: CliCommand = {
  usage: `edgewise optimize <model> --recipe <${RECIPE_PRESETS.join('|')}|file.json> [--calibration <dataset>] [--eval <dataset>] [--out <dir>] ` +
    `[--calibration-method minmax|percentile|mse|kl] [--samples N] [--fallback none|auto] [--per-tensor] [--runs N] [--no-store] ${DATASET_USAGE} [--json]`,
  options: {
    recipe: { type: 'string' }, calibration: { type: 'string' }, eval: { type: 'string' }, out: { type: 'string' },
    'calibration-method': { type: 'string' }, samples: { type: 'string' }, fallback: { type: 'string' },
    'per-tensor': { type: 'boolean' }, runs: { type: 'string' }, 'no-store': { type: 'boolean' }, ...DATASET_FLAGS,
  },
  async run(positionals, options, ctx): Promise<OptimizeResult> {
    const [model] = positionals;
    if (!model || positionals.length > 1) throw new CliError('INVALID_ARGUMENT', 'expected exactly one model path', optimize.usage);
    if (typeof options.recipe !== 'string') throw new CliError('INVALID_ARGUMENT', '--recipe is required', optimize.usage);
    const base = await withCode('INVALID_ARGUMENT', () => resolveRecipe(options.recipe as string));
    const method = options['calibration-method'];
    if (method !== undefined && !(RANGE_METHODS as readonly string[]).includes(String(method))) {
      throw new CliError('INVALID_ARGUMENT', `--calibration-method must be one of ${RANGE_METHODS.join(', ')}, got "${String(method)}"`);
    }
    const fallback = options.fallback;
    if (fallback !== undefined && fallback !== 'none' && fallback !== 'auto') throw new CliError('INVALID_ARGUMENT', `--fallback must be none or auto, got "${String(fallback)}"`);
    const samples = positiveInt(options, 'samples');
    const recipe = await withCode('INVALID_ARGUMENT', () => parseRecipe({
      ...base,
      calibration: { ...base.calibration, ...(method ? { method } : {}), ...(samples ? { samples } : {}) },
      weights: { ...base.weights, ...(options['per-tensor'] ? { perChannel: false, perChannelDense: false } : {}) },
      fallback: { ...base.fallback, ...(fallback ? { mode: fallback } : {}) },
    }, `recipe ${options.recipe}`));
    let lastLine = '';
    return runOptimize({
      model, recipe,
      ...(typeof options.calibration === 'string' ? { calibration: datasetArgs(options.calibration, options) } : {}),
      ...(typeof options.eval === 'string' ? { eval: datasetArgs(options.eval, options) } : {}),
      ...(typeof options.out === 'string' ? { outDir: options.out } : {}),
      benchmark: { runs: positiveInt(options, 'runs') ?? 30 },
      store: options['no-store'] !== true,
    }, {
      dataDir: ctx.dataDir,
      progress: (stage, fraction, message) => {
        const line = `${stage}${message ? `: ${message}` : ''}`;
        if (line !== lastLine && (fraction === 0 || fraction === 1 || message)) ctx.progress(line);
        lastLine = line;
      },
    });
  },
  format: formatOptimize,
};

const pct = (x: number) => `${(x * 100).toFixed(2)} %`;

export function formatOptimize(r: OptimizeResult): string {
  const lines: string[] = [];
  const rep = r.report;
  lines.push(`${r.recipe.name} (${r.recipe.technique}) of ${r.model}`);
  if (rep.calibration) {
    const c = rep.calibration;
    lines.push(`Calibration: ${c.method}${c.percentile !== undefined && c.method === 'percentile' ? ` ${c.percentile}` : ''} on ${c.samples} samples of ${c.dataset}` +
      `${r.recipe.biasCorrection ? ', bias correction' : ''}${r.recipe.equalization ? ', cross-layer equalization' : ''}`);
    lines.push(`Preprocessing: ${c.preprocessing}`);
  }
  if (rep.quantizedOps !== undefined) lines.push(`Quantized ops: ${rep.quantizedOps}; float ops: ${rep.floatOps?.length ?? 0}${rep.floatOps?.length ? ` (${rep.floatOps.map((o) => `${o.op}: ${o.reason}`).join('; ')})` : ''}`);
  if (rep.fallback) lines.push(`Automatic fallback: ${rep.fallback.met ? 'target met' : 'target NOT met'} after ${rep.fallback.steps.length} step(s)`);
  lines.push(`Size: ${r.sizes.variantBytes} B vs float ${r.sizes.floatBytes} B (${r.sizes.ratio.toFixed(3)}×)`);
  const e = r.evaluation;
  if (e) {
    if (e.float && e.variant) lines.push(`Top-1 accuracy on ${e.samples} samples: float ${pct(e.float.top1)} → ${pct(e.variant.top1)} (drop ${((e.accuracyDrop ?? 0) * 100).toFixed(2)} points)`);
    lines.push(`Agreement with float: top-1 ${pct(e.agreement.top1Agreement)}, mean |Δ softmax| ${e.agreement.meanAbsDelta.toFixed(5)}`);
  }
  const b = r.benchmark;
  lines.push(`Latency (TFLite WASM, 1 thread) p50: float ${b.float.warmP50Ms.toFixed(2)} ms, ${r.recipe.name} ${b.variant.warmP50Ms.toFixed(2)} ms (${b.p50Ratio.toFixed(2)}×); cold start ${b.variant.coldMs.toFixed(1)} ms`);
  if (r.outFile) lines.push(`Wrote ${r.outFile}`);
  if (r.stored) lines.push(`Stored variant ${r.stored.variantId} (parent float ${r.stored.floatVariantId}, model ${r.stored.modelId})`);
  for (const w of r.warnings) lines.push(`Warning: ${w}`);
  return lines.join('\n');
}
