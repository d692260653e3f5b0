/** `edgewise convert <model> --out <file.tflite>`: any importable model → float32 .tflite, recorded in the history. */
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { openHistory } from '../../history/index.ts';
import { loadModel } from '../../model/load.ts';
import { optimizeForExport } from '../../model/passes.ts';
import { recordSourceModel } from '../../model/source-model.ts';
import { exportTflite } from '../../tflite/from-ir.ts';
import { CliError, type CliCommand } from '../command.ts';

interface ConvertResult {
  out: string;
  bytes: number;
  format: string;
  modelId: string;
  variantId: string;
  warnings: string[];
}

export const convert: CliCommand = {
  usage: 'edgewise convert <model> --out <file.tflite> [--json]',
  options: { out: { type: 'string', short: 'o' } },
  async run(positionals, options, ctx): Promise<ConvertResult> {
    const [path] = positionals;
    if (!path || positionals.length > 1) throw new CliError('INVALID_ARGUMENT', 'expected exactly one model path', this.usage);
    if (typeof options.out !== 'string') throw new CliError('INVALID_ARGUMENT', '--out <file.tflite> is required', this.usage);
    const out = resolve(options.out);

    ctx.progress(`Importing ${path}…`);
    const loaded = await loadModel(path).catch((e: unknown) => {
      throw new CliError('BAD_MODEL', e instanceof Error ? e.message : String(e));
    });
    ctx.progress(`Exporting ${loaded.graph.ops.length} ops as float32 TFLite…`);
    const bytes = exportTflite(optimizeForExport(loaded.graph));

    // Store first (artifact + variant in one transaction), then write the user's copy.
    const history = openHistory(ctx.dataDir);
    try {
      const model = recordSourceModel(history, loaded);
      const variant = history.addVariant({
        modelId: model.id,
        name: 'converted',
        recipe: { technique: 'convert', from: loaded.format, passes: 'optimizeForExport' },
        status: 'ready',
        artifact: { source: bytes, kind: 'tflite' },
      });
      mkdirSync(dirname(out), { recursive: true });
      writeFileSync(out, bytes);
      return { out, bytes: bytes.length, format: loaded.format, modelId: model.id, variantId: variant.id, warnings: loaded.warnings };
    } finally {
      history.close();
    }
  },
  format: (r: ConvertResult) =>
    [`Wrote ${r.out} (${r.bytes.toLocaleString()} bytes) from a ${r.format} model.`, `History: model ${r.modelId}, variant ${r.variantId}`, ...r.warnings.map((w) => `warning: ${w}`)].join('\n'),
};
