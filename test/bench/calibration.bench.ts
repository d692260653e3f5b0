/**
 * Prints the real int8 quantization MSE of each range method (minmax = the TFLite converter baseline) on synthetic
 * activation distributions, plus how long the range search takes per tensor. Run: npm run bench:calibration
 */
import { HistogramObserver, selectRange, type RangeMethod } from '../../main/optimize/quantize/calibration.ts';
import { activationParams, fakeQuantize } from '../../main/optimize/quantize/math.ts';
import { mulberry32 } from '../helpers/random.ts';

const rng = mulberry32;
const r = rng(42);
const gauss = () => Math.sqrt(-2 * Math.log(1 - r())) * Math.cos(2 * Math.PI * r());
const laplace = () => { const u = r() - 0.5; return -Math.sign(u) * Math.log(1 - 2 * Math.abs(u)); };
const t3 = () => gauss() / Math.sqrt((gauss() ** 2 + gauss() ** 2 + gauss() ** 2) / 3);
const N = 1_000_000;
const gen = (f: () => number) => Float32Array.from({ length: N }, f);

const dists: Record<string, Float32Array> = {
  'gaussian': gen(gauss),
  'laplace': gen(laplace),
  'laplace + 2 spikes (±50)': (() => { const x = gen(laplace); x[10] = 50; x[20] = -48; return x; })(),
  'student-t(3)': gen(t3),
  'relu(gaussian)': gen(() => Math.max(0, gauss())),
  'relu(t(3))': gen(() => Math.max(0, t3())),
  'uniform[-1,1]': gen(() => 2 * r() - 1),
};
const methods: Record<string, RangeMethod> = {
  minmax: { kind: 'minmax' }, 'p99.99': { kind: 'percentile', percentile: 99.99 }, 'p99.999': { kind: 'percentile', percentile: 99.999 },
  mse: { kind: 'mse' }, kl: { kind: 'kl' },
};

console.log(`int8 quantization MSE relative to minmax (lower is better), ${N} values per distribution`);
console.log(['distribution'.padEnd(26), ...Object.keys(methods).map((m) => m.padStart(9)), '  minmax MSE'].join(''));
const times: Record<string, number> = {};
for (const [name, x] of Object.entries(dists)) {
  const o = new HistogramObserver();
  for (let i = 0; i < N; i += 65536) o.update(x.subarray(i, i + 65536));
  const row: string[] = [name.padEnd(26)];
  let base = 0;
  for (const [m, method] of Object.entries(methods)) {
    const t0 = performance.now();
    const range = selectRange(o, method);
    times[m] = (times[m] ?? 0) + performance.now() - t0;
    const fq = fakeQuantize(x, activationParams(range.min, range.max));
    let s = 0;
    for (let i = 0; i < N; i++) s += (x[i] - fq[i]) ** 2;
    if (m === 'minmax') base = s / N;
    row.push((s / N / base).toFixed(3).padStart(9));
  }
  row.push(`  ${base.toExponential(3)}`);
  console.log(row.join(''));
}
const n = Object.keys(dists).length;
console.log(`range selection time per tensor (ms): ${Object.entries(times).map(([m, t]) => `${m} ${(t / n).toFixed(1)}`).join(', ')}`);
