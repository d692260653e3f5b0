/**
 * Cold/warm latency of every compiled Coral fixture (and the mixed CPU + Edge TPU test models) through our
 * driver, on the EMULATED stick at USB 3 vs USB 2. Run: npm run bench:coral
 *
 * These are NOT hardware numbers: the stick's time comes from the emulator's latency model (bulk OUT at 320 MB/s
 * on USB 3 / 35 MB/s on USB 2, plus a made-up 0.3 ms per executable since the fixtures carry no cycle estimates).
 * The driver, USB framing, host transforms and the CPU parts (real TFLite WASM runtime) are real. The emulator
 * runs without twin compute here, so the Edge TPU outputs are zeros and no CPU time is spent playing the chip.
 */
import { readFileSync } from 'node:fs';
import { EmulatedCoralStick, EmulatorBackend } from '../emulator/coral-stick.ts';
import { CORAL_FIXTURES, mixedModels } from '../emulator/mixed-models.ts';
import { EdgeTpuDevice, unloadModel } from '../../main/devices/edgetpu.ts';
import { loadTfliteRuntime } from '../../native-bridges/tflite-runtime.ts';

const RUNS = Number(process.env.CORAL_BENCH_RUNS ?? 30);
const fixture = (n: string) => new Uint8Array(readFileSync(new URL(n, CORAL_FIXTURES)));
const FIXTURES = ['mobilenet_v1_0.25_128_quant', 'split_concat', 'keras_lstm_mnist_ptq'];

const models = [
  ...FIXTURES.map((n) => ({ name: n, compiled: fixture(`${n}_edgetpu.tflite`), programs: [`${n}_edgetpu.tflite`] })),
  ...mixedModels().map((m) => ({ name: `${m.name} (mixed)`, compiled: m.compiled, programs: m.twins.map(([c]) => c) })),
];

const p50 = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const f = (x: number) => x.toFixed(2).padStart(8);

await loadTfliteRuntime(); // one-time WASM load, not part of any model's cold start
console.log(`EMULATED Coral USB Accelerator (latency model, not hardware), ${RUNS} warm runs per row`);
console.log('cold = first call: CPU parts loaded in the runtime + parameter caching; two separately compiled Edge TPU ops re-cache on every call');
console.log(['model'.padEnd(36), 'link ', '  cold ms', '  warm p50', '  cpu p50', '  tpu p50'].join(''));
for (const m of models) {
  for (const speed of ['super', 'high'] as const) {
    const stick = new EmulatedCoralStick({ speed, state: 'app' });
    for (const p of m.programs) stick.addModel({ compiled: fixture(p), fileName: p });
    const dev = await EdgeTpuDevice.open(new EmulatorBackend([stick]), stick.path);
    const loaded = dev.loadModel(m.compiled, m.name);
    const sg = loaded.model.tflite.subgraphs[0]!;
    const inputs = sg.inputs.map((ti) => {
      const t = sg.tensors[ti]!;
      return new Uint8Array(t.shape.reduce((a, b) => a * b, 1) * (t.type === 'FLOAT32' || t.type === 'INT32' ? 4 : t.type === 'INT16' ? 2 : 1));
    });
    let t0 = performance.now();
    await dev.invoke(loaded, inputs);
    const cold = performance.now() - t0;
    const total: number[] = [];
    const cpu: number[] = [];
    const tpu: number[] = [];
    for (let i = 0; i < RUNS; i++) {
      t0 = performance.now();
      const r = await dev.invoke(loaded, inputs);
      total.push(performance.now() - t0);
      cpu.push(r.cpuMs);
      tpu.push(r.tpuMs);
    }
    await unloadModel(loaded);
    await dev.close();
    console.log([m.name.padEnd(36), speed === 'super' ? 'USB3 ' : 'USB2 ', f(cold), ' ', f(p50(total)), ' ', f(p50(cpu)), ' ', f(p50(tpu))].join(''));
  }
}
