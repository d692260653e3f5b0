/**
 * Latency of a .tflite in the real TFLite runtime: cold start (load + first inference, what a user waits for once)
 * measured separately from warm latency (min, p50, p90, p99 over N runs after warm-up). Inputs are fixed
 * pseudo-random values of the input's type (latency does not depend on the values for these kernels).
 */
import { cpus, platform, arch, totalmem } from 'node:os';
import { TfliteInterpreter } from '../../native-bridges/tflite-runtime.ts';

export interface BenchmarkOptions {
  runs?: number;
  warmup?: number;
  signal?: AbortSignal;
}

export interface BenchmarkResult {
  runtime: 'tflite-wasm';
  threads: number;
  coldMs: number;
  warmMinMs: number;
  warmP50Ms: number;
  warmP90Ms: number;
  warmP99Ms: number;
  runs: number;
  warmup: number;
  machine: { cpu: string; cores: number; platform: string; arch: string; memoryGiB: number; node: string };
}

export function machineInfo(): BenchmarkResult['machine'] {
  const c = cpus();
  return {
    cpu: c[0]?.model.trim() ?? 'unknown', cores: c.length, platform: platform(), arch: arch(),
    memoryGiB: Math.round(totalmem() / 2 ** 30), node: process.version,
  };
}

/** Nearest-rank percentile of sorted values. */
export function percentile(sorted: readonly number[], p: number): number {
  if (!sorted.length) throw new Error('percentile of no values');
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))]!;
}

function inputFor(dtype: string, n: number): ArrayLike<number> {
  let seed = 12345;
  const rnd = () => ((seed = (seed * 1103515245 + 12345) >>> 0) / 2 ** 32);
  if (dtype === 'int8') return Int8Array.from({ length: n }, () => Math.floor(rnd() * 256) - 128);
  if (dtype === 'uint8') return Uint8Array.from({ length: n }, () => Math.floor(rnd() * 256));
  if (dtype === 'int32') return Int32Array.from({ length: n }, () => Math.floor(rnd() * 10));
  return Float32Array.from({ length: n }, rnd);
}

export async function benchmarkTflite(bytes: Uint8Array, opts: BenchmarkOptions = {}): Promise<BenchmarkResult> {
  const runs = opts.runs ?? 50;
  const warmup = opts.warmup ?? 5;
  if (!(Number.isInteger(runs) && runs > 0)) throw new Error(`--runs must be a positive integer, got ${runs}`);
  if (!(Number.isInteger(warmup) && warmup >= 0)) throw new Error(`--warmup must be a non-negative integer, got ${warmup}`);
  const t0 = performance.now();
  const it = await TfliteInterpreter.create(bytes);
  try {
    const inputs = it.inputs.map((t) => inputFor(t.dtype, t.shape.reduce((a, d) => a * Math.max(d, 1), 1)));
    const once = () => {
      inputs.forEach((x, i) => it.setInput(i, x));
      it.invoke();
    };
    once();
    const coldMs = performance.now() - t0;
    for (let i = 0; i < warmup; i++) once();
    const times: number[] = [];
    for (let i = 0; i < runs; i++) {
      if (opts.signal?.aborted) throw new Error('Benchmark cancelled');
      const s = performance.now();
      once();
      times.push(performance.now() - s);
    }
    times.sort((a, b) => a - b);
    return {
      runtime: 'tflite-wasm', threads: 1, coldMs, warmMinMs: times[0]!, warmP50Ms: percentile(times, 50),
      warmP90Ms: percentile(times, 90), warmP99Ms: percentile(times, 99), runs, warmup, machine: machineInfo(),
    };
  } finally {
    it.dispose();
  }
}
