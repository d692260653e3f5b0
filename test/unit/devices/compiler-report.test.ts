import { test } from 'node:test';
import assert from 'node:assert/strict';
import { compilerInstallHint, findEdgeTpuCompiler, parseCompilerReport, parseSize } from '../../../main/devices/compiler.ts';

// Console output in the format the reference records (edgetpu-usb.md §2.3), partial mapping.
const PARTIAL = `Edge TPU Compiler version 16.0.384591198
Started a compilation timeout timer of 180 seconds.

Model compiled successfully in 1062 ms.

Input model: ssd_mobilenet_v2_quant.tflite
Input size: 6.52MiB
Output model: ssd_mobilenet_v2_quant_edgetpu.tflite
Output size: 6.72MiB
On-chip memory used for caching model parameters: 5.90MiB
On-chip memory remaining for caching model parameters: 1.16MiB
Off-chip memory used for streaming uncached model parameters: 0.00B
Number of Edge TPU subgraphs: 1
Total number of operations: 114
Operation log: ssd_mobilenet_v2_quant_edgetpu.log

Model successfully compiled but not all operations are supported by the Edge TPU. A percentage of the model will instead run on the CPU, which is slower. If possible, consider updating your model to use only operations supported by the Edge TPU. For details, visit g.co/coral/model-reqs.
Number of operations that will run on Edge TPU: 110
Number of operations that will run on CPU: 4

Operator                       Count      Status

LOGISTIC                       1          Mapped to Edge TPU
DEQUANTIZE                     2          Operation is working on an unsupported data type
CONV_2D                        55         Mapped to Edge TPU
CUSTOM                         1          Operation is working on an unsupported data type
RESHAPE                        1          More than one subgraph is not supported
DEPTHWISE_CONV_2D              33         Mapped to Edge TPU
CONCATENATION                  2          Mapped to Edge TPU
RESHAPE                        12         Mapped to Edge TPU
ADD                            7          Mapped to Edge TPU
`;

const FAILED = `Edge TPU Compiler version 15.0.340273435

Internal compiler error. Aborting!
Compilation failed!
`;

const LOG = `Edge TPU Compiler version 16.0.384591198
Input: model.tflite
Output: model_edgetpu.tflite

Operator                       Count      Status

FULLY_CONNECTED                2          Mapped to Edge TPU
SOFTMAX                        1          Mapped to Edge TPU
MEAN                           1          Operation is otherwise supported, but not mapped due to some unspecified limitation
TRANSPOSE                      1          Tensor has unsupported rank (up to 3 innermost dimensions mapped)
`;

test('parses the console report: header numbers, memory, per-op table', () => {
  const r = parseCompilerReport(PARTIAL);
  assert.equal(r.success, true);
  assert.equal(r.compilerVersion, '16.0.384591198');
  assert.equal(r.compileTimeMs, 1062);
  assert.equal(r.onChipMemoryUsedBytes, Math.round(5.9 * 1024 * 1024));
  assert.equal(r.onChipMemoryRemainingBytes, Math.round(1.16 * 1024 * 1024));
  assert.equal(r.offChipMemoryUsedBytes, 0);
  assert.equal(r.subgraphCount, 1);
  assert.equal(r.totalOps, 114);
  assert.equal(r.tpuOps, 110);
  assert.equal(r.cpuOps, 4);
  assert.equal(r.ops.length, 9);
  assert.deepEqual(r.ops[1], { op: 'DEQUANTIZE', count: 2, status: 'Operation is working on an unsupported data type', mapped: false });
  assert.equal(r.ops.filter((o) => o.mapped).reduce((s, o) => s + o.count, 0), 110);
});

test('parses failures and the .log format', () => {
  const f = parseCompilerReport(FAILED);
  assert.equal(f.success, false);
  assert.deepEqual(f.errors, ['Internal compiler error. Aborting!', 'Compilation failed!']);
  const l = parseCompilerReport(LOG);
  assert.equal(l.inputModel, 'model.tflite');
  assert.equal(l.ops.length, 4);
  assert.equal(l.tpuOps, 3);
  assert.equal(l.cpuOps, 2);
  assert.match(l.ops[2]!.status, /unspecified limitation/);
});

test('sizes and the install hint', () => {
  assert.equal(parseSize('512.00KiB'), 512 * 1024);
  assert.equal(parseSize('7.1MiB'), Math.round(7.1 * 1024 * 1024));
  assert.match(compilerInstallHint('linux', 'x64'), /apt-get install edgetpu-compiler/);
  assert.match(compilerInstallHint('darwin', 'arm64'), /no Edge TPU compiler for darwin\/arm64/);
});

test('findEdgeTpuCompiler answers without throwing and explains what is missing', async () => {
  const r = await findEdgeTpuCompiler();
  assert.equal(typeof r.detail, 'string');
  if (!r.found) assert.ok(r.fix);
  else assert.match(r.version ?? '', /^\d+\./);
});
