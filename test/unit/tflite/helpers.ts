/** Shared helpers for the tflite tests: fixture access, seeded random inputs, running a model in the real runtime. */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { TfliteInterpreter, type RuntimeTypedArray } from '../../../native-bridges/tflite-runtime.ts';

export const CORAL_DIR = fileURLToPath(new URL('../../../../shared/fixtures/coral/', import.meta.url));

export const RUNNABLE_FIXTURES = ['mobilenet_v1_0.25_128_quant.tflite', 'keras_lstm_mnist_ptq.tflite', 'split_concat.tflite'];
export const CUSTOM_OP_FIXTURES = [
  'mobilenet_v1_0.25_128_quant_edgetpu.tflite', 'keras_lstm_mnist_ptq_edgetpu.tflite', 'split_concat_edgetpu.tflite',
  'model_invoking_error.tflite',
];
export const ALL_FIXTURES = [...RUNNABLE_FIXTURES, ...CUSTOM_OP_FIXTURES];

export function fixture(name: string): Uint8Array {
  return new Uint8Array(readFileSync(CORAL_DIR + name));
}

import { mulberry32 as rng } from '../../helpers/random.ts';

export { rng };

/** Random values of the right dtype for one runtime input. */
export function randomInput(dtype: string, size: number, rand: () => number): RuntimeTypedArray {
  switch (dtype) {
    case 'uint8': return Uint8Array.from({ length: size }, () => Math.floor(rand() * 256));
    case 'int8': return Int8Array.from({ length: size }, () => Math.floor(rand() * 256) - 128);
    case 'int16': return Int16Array.from({ length: size }, () => Math.floor(rand() * 65536) - 32768);
    case 'int32': return Int32Array.from({ length: size }, () => Math.floor(rand() * 200) - 100);
    default: return Float32Array.from({ length: size }, () => rand() * 2 - 1);
  }
}

/** Runs `bytes` on each input set and returns the outputs (one array per output, per run). */
export async function runModel(bytes: Uint8Array, inputSets: ArrayLike<number>[][]): Promise<RuntimeTypedArray[][]> {
  const interp = await TfliteInterpreter.create(bytes);
  try {
    return inputSets.map((inputs) => {
      inputs.forEach((x, i) => interp.setInput(i, x));
      interp.invoke();
      return interp.outputs.map((_, i) => interp.output(i));
    });
  } finally {
    interp.dispose();
  }
}

/** Seeded random input sets matching a model's inputs. */
export async function randomInputSets(bytes: Uint8Array, count: number, seed: number): Promise<RuntimeTypedArray[][]> {
  const interp = await TfliteInterpreter.create(bytes);
  const rand = rng(seed);
  try {
    return Array.from({ length: count }, () =>
      interp.inputs.map((t) => randomInput(t.dtype, t.shape.reduce((a, b) => a * b, 1), rand)));
  } finally {
    interp.dispose();
  }
}
