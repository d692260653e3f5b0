/** `edgewise benchmark <model.tflite> [--runs N] [--warmup N] [--json]`: cold start and warm latency in the TFLite runtime. */
import { readFileSync, statSync } from 'node:fs';
import { resolve } from 'node:path';
import { CliError, type CliCommand } from '../command.ts';
import { benchmarkTflite, type BenchmarkResult } from '../../evaluate/benchmark.ts';
import { positiveInt } from './dataset-flags.ts';

export const benchmark: CliCommand = {
  usage: 'edgewise benchmark <model.tflite> [--runs N] [--warmup N] [--json]',
  options: { runs: { type: 'string' }, warmup: { type: 'string' } },
  async run(positionals, options, ctx): Promise<BenchmarkResult & { model: string }> {
    const [path] = positionals;
    if (!path || positionals.length > 1) throw new CliError('INVALID_ARGUMENT', 'expected exactly one .tflite path', benchmark.usage);
    const file = resolve(path);
    try {
      if (!statSync(file).isFile()) throw new Error();
    } catch {
      throw new CliError('NOT_FOUND', `Model file not found: ${file}`);
    }
    const bytes = new Uint8Array(readFileSync(file));
    if (bytes.length < 8 || String.fromCharCode(...bytes.subarray(4, 8)) !== 'TFL3') {
      throw new CliError('BAD_MODEL', `${file} is not a .tflite file`, 'Convert it first with `edgewise optimize <model> --recipe fp16` or benchmark a .tflite');
    }
    const warmupRaw = options.warmup;
    const warmup = warmupRaw === undefined ? 5 : Number(warmupRaw);
    if (!Number.isInteger(warmup) || warmup < 0) throw new CliError('INVALID_ARGUMENT', `--warmup must be a non-negative integer, got "${String(warmupRaw)}"`);
    const runs = positiveInt(options, 'runs') ?? 50;
    ctx.progress(`benchmarking ${file}: ${warmup} warm-up + ${runs} runs`);
    try {
      return { model: file, ...(await benchmarkTflite(bytes, { runs, warmup })) };
    } catch (e) {
      throw new CliError('BAD_MODEL', e instanceof Error ? e.message : String(e));
    }
  },
  format(r: BenchmarkResult & { model: string }): string {
    const ms = (x: number) => `${x.toFixed(2)} ms`;
    return [
      `${r.model}`,
      `Runtime: TFLite WASM (XNNPACK), ${r.threads} thread · ${r.machine.cpu} (${r.machine.cores} cores), ${r.machine.platform}/${r.machine.arch}, Node ${r.machine.node}`,
      `Cold start (load + first inference): ${ms(r.coldMs)}`,
      `Warm over ${r.runs} runs (after ${r.warmup} warm-up): min ${ms(r.warmMinMs)}  p50 ${ms(r.warmP50Ms)}  p90 ${ms(r.warmP90Ms)}  p99 ${ms(r.warmP99Ms)}`,
    ].join('\n');
  },
};
