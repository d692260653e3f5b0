import { existsSync, readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { openHistory } from '../../history/index.ts';
import { compileForEdgeTpu, type CompilerReport } from '../../devices/compiler.ts';
import { predictEdgeTpu } from '../../devices/compat.ts';
import { readTflite } from '../../tflite/reader.ts';
import { CliError, type CliCommand } from '../command.ts';

interface CompileOutput {
  input: string;
  compiledPath: string;
  compiler: { path: string; version: string };
  report: CompilerReport;
  /** Our own prediction, for comparison with what the compiler did. */
  predicted: { mapped: number; cpu: number };
  variantId?: string;
}

export const compile: CliCommand = {
  name: 'compile',
  summary: "Compile a model for the Edge TPU with Google's edgetpu_compiler and store the result with the variant",
  usage: 'edgewise compile <variant id | file.tflite> [--out-dir <dir>] [--json]',
  options: { 'out-dir': { type: 'string' } },
  async run(positionals, options, ctx): Promise<CompileOutput> {
    const target = positionals[0];
    if (!target) throw new CliError('INVALID_ARGUMENT', 'Give a variant id or a .tflite file.', this.usage);
    const isFile = existsSync(target);
    const history = isFile ? undefined : openHistory(ctx.dataDir);
    try {
      const variant = history?.getVariant(target);
      const input = isFile ? resolve(target) : variant?.artifact?.path;
      if (!input) throw new CliError('NOT_FOUND', `Variant ${target} has no model file to compile.`);
      const predicted = predictEdgeTpu(readTflite(new Uint8Array(readFileSync(input)), input));
      ctx.progress(`Compiling ${input} (predicted: ${predicted.mappedCount} of ${predicted.ops.length} ops on the Edge TPU)…`);
      let r;
      try {
        r = await compileForEdgeTpu(input, { ...(typeof options['out-dir'] === 'string' ? { outDir: options['out-dir'] } : isFile ? { outDir: dirname(input) } : {}) });
      } catch (e) {
        const err = e as Error & { code?: string; hint?: string };
        throw new CliError(err.code === 'UNSUPPORTED' ? 'UNSUPPORTED' : 'BAD_MODEL', err.message, err.hint);
      }
      const out: CompileOutput = { input, compiledPath: r.compiledPath, compiler: r.compiler, report: r.report, predicted: { mapped: predicted.mappedCount, cpu: predicted.cpuCount } };
      if (history && variant) {
        const v = history.addVariant({
          modelId: variant.modelId,
          parentId: variant.id,
          name: `${variant.name} · Edge TPU`,
          recipe: { kind: 'edgetpu-compile', compiler: r.compiler.version },
          artifact: { source: r.compiledPath, kind: 'edgetpu-tflite' },
          reports: { 'edgetpu-compiler': r.report, 'edgetpu-compat': predicted },
        });
        out.variantId = v.id;
      }
      return out;
    } finally {
      history?.close();
    }
  },
  format(r: CompileOutput) {
    const rep = r.report;
    const mib = (b?: number) => (b === undefined ? '?' : `${(b / 1048576).toFixed(2)} MiB`);
    return [
      `${r.compiledPath} (Edge TPU Compiler ${r.compiler.version})`,
      `ops on the Edge TPU: ${rep.tpuOps ?? '?'}, on the CPU: ${rep.cpuOps ?? '?'} (predicted ${r.predicted.mapped} / ${r.predicted.cpu}); subgraphs: ${rep.subgraphCount ?? '?'}`,
      `on-chip memory used ${mib(rep.onChipMemoryUsedBytes)}, remaining ${mib(rep.onChipMemoryRemainingBytes)}, off-chip (streamed) ${mib(rep.offChipMemoryUsedBytes)}`,
      ...rep.ops.map((o) => `  ${o.op.padEnd(28)} ${String(o.count).padStart(4)}  ${o.status}`),
      ...(r.variantId ? [`stored as variant ${r.variantId}`] : []),
    ].join('\n');
  },
};
