import { test } from 'node:test';
import assert from 'node:assert/strict';
import { inspectTflite, formatInspection } from '../../../main/tflite/inspect.ts';
import { exportTflite } from '../../../main/tflite/from-ir.ts';
import { inspect } from '../../../main/cli/commands/inspect.ts';
import type { CliContext } from '../../../main/cli/command.ts';
import { CORAL_DIR, fixture } from './helpers.ts';

const ctx: CliContext = { dataDir: '/nonexistent', json: true, progress: () => {} };

test('inspects the uint8 MobileNet: I/O, histogram, parameters, sizes, runtime version', () => {
  const r = inspectTflite(fixture('mobilenet_v1_0.25_128_quant.tflite'), 'mobilenet.tflite');
  assert.equal(r.format, 'tflite');
  assert.deepEqual(r.inputs, [{ name: 'input', shape: [1, 128, 128, 3], dtype: 'uint8', quantization: { kind: 'per-tensor', scale: 0.0078125, zeroPoint: 128 } }]);
  assert.deepEqual(r.opHistogram, { CONV_2D: 15, DEPTHWISE_CONV_2D: 13, AVERAGE_POOL_2D: 1, RESHAPE: 1, SOFTMAX: 1 });
  assert.equal(r.minRuntimeVersion, '1.5.0');
  assert.ok(r.parameterCount! > 400_000 && r.parameterCount! < 500_000, String(r.parameterCount));
  assert.equal(r.fileSize, 525598);
  assert.ok(r.gzippedSize > 0 && r.gzippedSize < r.fileSize);
  assert.match(formatInspection(r), /15 {2}CONV_2D/);
});

test('inspects an Edge TPU model: custom op name and options size', () => {
  const r = inspectTflite(fixture('mobilenet_v1_0.25_128_quant_edgetpu.tflite'), 'm.tflite');
  assert.deepEqual(r.edgeTpuCustomOps, [{ name: 'edgetpu-custom-op', optionsSize: 778324 }]);
  assert.equal(r.parameterCount, null);
  assert.match(formatInspection(r), /edgetpu-custom-op: 778324 B of options/);
});

test('summarizes per-channel quantization (count, min/max scale)', () => {
  const graph = {
    name: 'g', inputs: ['x'], outputs: ['y'], metadata: {},
    tensors: new Map([
      ['x', { name: 'x', shape: [1, 2], dtype: 'float32' as const }],
      ['w', { name: 'w', shape: [3, 2], dtype: 'int8' as const, data: new Int8Array(6), quant: { scale: [0.5, 0.25, 2], zeroPoint: [0, 0, 0], axis: 0 } }],
      ['wd', { name: 'wd', shape: [3, 2], dtype: 'float32' as const }],
      ['y', { name: 'y', shape: [1, 3], dtype: 'float32' as const }],
    ]),
    ops: [
      { name: 'wd', type: 'DEQUANTIZE', inputs: ['w'], outputs: ['wd'], attrs: {} },
      { name: 'y', type: 'FULLY_CONNECTED', inputs: ['x', 'wd', ''], outputs: ['y'], attrs: {} },
    ],
  };
  const r = inspectTflite(exportTflite(graph), 'pc.tflite');
  assert.deepEqual(r.quantizedTensors.map((t) => t.quantization), [{ kind: 'per-channel', axis: 0, channels: 3, minScale: 0.25, maxScale: 2 }]);
  assert.equal(r.parameterCount, 6);
});

test('CLI inspect: returns the inspection, clear errors for missing and corrupt files', async () => {
  const r = (await inspect.run([CORAL_DIR + 'split_concat.tflite'], {}, ctx)) as { outputs: unknown[]; opHistogram: object };
  assert.equal(r.outputs.length, 5);
  assert.deepEqual(r.opHistogram, { CONCATENATION: 2, SPLIT: 1 });
  await assert.rejects(inspect.run(['/definitely/missing.tflite'], {}, ctx), (e: Error & { code?: string }) => e.code === 'NOT_FOUND' && /missing\.tflite/.test(e.message));
  await assert.rejects(inspect.run([], {}, ctx), (e: Error & { code?: string }) => e.code === 'INVALID_ARGUMENT');
});
