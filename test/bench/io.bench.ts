/**
 * Import + float export speed on a real model (nsfwjs MobileNetV2, 162 Keras layers, 2.6 M parameters), and
 * `edgewise inspect` on it. Target: import + export < 5 s on the 2-core dev machine.
 * Run: npm run bench:io   (optional env: BENCH_RUNS=3)
 */
import { performance } from 'node:perf_hooks';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { initCompute } from '../../native-bridges/tfjs-backend.ts';
import { loadModel } from '../../main/model/load.ts';
import { optimizeForExport } from '../../main/model/passes.ts';
import { exportTflite } from '../../main/tflite/from-ir.ts';
import { inspect } from '../../main/cli/commands/inspect.ts';
import { unwrapNsfwjsMobilenetV2 } from '../helpers/nsfwjs.ts';

const runs = Number(process.env.BENCH_RUNS ?? 3);
const ms = (t0: number) => performance.now() - t0;

const { backend } = await initCompute();
let t0 = performance.now();
const path = unwrapNsfwjsMobilenetV2(mkdtempSync(join(tmpdir(), 'edgewise-bench-io-')));
console.log(`unwrap nsfwjs MobileNetV2 (base64 UMD → model.json + shard): ${ms(t0).toFixed(0)} ms`);

const rows: { load: number; passes: number; exportMs: number; total: number; bytes: number }[] = [];
for (let i = 0; i < runs; i++) {
  t0 = performance.now();
  const { graph } = await loadModel(path);
  const load = ms(t0);
  let t1 = performance.now();
  const opt = optimizeForExport(graph);
  const passes = ms(t1);
  t1 = performance.now();
  const bytes = exportTflite(opt).length;
  const exportMs = ms(t1);
  rows.push({ load, passes, exportMs, total: ms(t0), bytes });
  console.log(`run ${i + 1}: import ${load.toFixed(0)} ms (${graph.ops.length} ops), passes ${passes.toFixed(0)} ms (${opt.ops.length} ops), ` +
    `export ${exportMs.toFixed(0)} ms (${(bytes / 1e6).toFixed(2)} MB): total ${rows[i].total.toFixed(0)} ms`);
}
const best = Math.min(...rows.map((r) => r.total));
console.log(`import + float export, best of ${runs}: ${best.toFixed(0)} ms (target < 5000 ms) — ${best < 5000 ? 'OK' : 'TOO SLOW'}`);

const times: number[] = [];
for (let i = 0; i < runs; i++) {
  t0 = performance.now();
  await inspect.run([path], {}, { dataDir: tmpdir(), json: true, progress: () => {} });
  times.push(ms(t0));
}
console.log(`edgewise inspect (model.json): best ${Math.min(...times).toFixed(0)} ms, runs ${times.map((t) => t.toFixed(0)).join(' / ')} ms`);
console.log(`backend: ${backend}, node ${process.version}`);
