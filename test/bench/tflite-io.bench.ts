/** Prints read/write/convert timings for the MobileNet fixture and its latency in the WASM TFLite runtime. */
import { readTflite } from '../../main/tflite/reader.ts';
import { writeTflite } from '../../main/tflite/writer.ts';
import { tfliteToGraph } from '../../main/tflite/to-ir.ts';
import { exportTflite } from '../../main/tflite/from-ir.ts';
import { TfliteInterpreter } from '../../native-bridges/tflite-runtime.ts';
import { fixture } from '../unit/tflite/helpers.ts';

const name = 'mobilenet_v1_0.25_128_quant.tflite';
const bytes = fixture(name);
function median(fn: () => void, runs = 30): number {
  const times: number[] = [];
  for (let i = 0; i < runs; i++) {
    const t0 = performance.now();
    fn();
    times.push(performance.now() - t0);
  }
  return times.sort((a, b) => a - b)[runs >> 1]!;
}
const model = readTflite(bytes, name);
const graph = tfliteToGraph(model, name);
console.log(`${name} (${bytes.length} B), median of 30:`);
console.log(`  readTflite      ${median(() => readTflite(bytes, name)).toFixed(2)} ms`);
console.log(`  writeTflite     ${median(() => writeTflite(model)).toFixed(2)} ms`);
console.log(`  tfliteToGraph   ${median(() => tfliteToGraph(model, name)).toFixed(2)} ms`);
console.log(`  exportTflite    ${median(() => exportTflite(graph)).toFixed(2)} ms`);
const interp = await TfliteInterpreter.create(bytes);
interp.setInput(0, new Uint8Array(128 * 128 * 3).fill(128));
console.log(`  runtime invoke  ${median(() => interp.invoke(), 50).toFixed(2)} ms (WASM, 1 thread)`);
interp.dispose();
