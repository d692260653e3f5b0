import { existsSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { openHistory } from '../../history/index.ts';
import { compileModelFile, compileVariant, type CompileOutcome } from '../../devices/compile-variant.ts';
import { CliError, type CliCommand } from '../command.ts';

export const compile: CliCommand = {
  usage: 'edgewise compile <variant id | file.tflite> [--out-dir <dir>] [--json]',
  options: { 'out-dir': { type: 'string' } },
  async run(positionals, options, ctx): Promise<CompileOutcome> {
    const target = positionals[0];
    if (!target) throw new CliError('INVALID_ARGUMENT', 'Give a variant id or a .tflite file.', this.usage);
    if (existsSync(target)) {
      const input = resolve(target);
      return compileModelFile(input, typeof options['out-dir'] === 'string' ? options['out-dir'] : dirname(input), ctx.progress);
    }
    const history = openHistory(ctx.dataDir);
    try {
      return await compileVariant(history, target, ctx.progress);
    } finally {
      history.close();
    }
  },
  format(r: CompileOutcome) {
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
