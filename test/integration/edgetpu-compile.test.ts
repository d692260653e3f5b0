/**
 * Compile → deploy through the same service the CLI and the app use (`compileVariant`, API `devices.compile`).
 * Google's edgetpu_compiler cannot be installed here, so the success path runs a stand-in executable that behaves
 * like it at the process boundary (answers --version, takes the same arguments, writes `<stem>_edgetpu.tflite`
 * and prints a report in the recorded format): everything on our side of the boundary is real.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { openHistory, sha256Hex } from '../../main/history/index.ts';
import { compileVariant } from '../../main/devices/compile-variant.ts';
import { findEdgeTpuCompiler } from '../../main/devices/compiler.ts';
import { DeviceService } from '../../main/devices/service.ts';
import { EmulatedCoralStick, EmulatorBackend } from '../emulator/coral-stick.ts';
import { twinCompute } from '../emulator/compute.ts';

const CORAL = fileURLToPath(new URL('../../../shared/fixtures/coral/', import.meta.url));
const TWIN = join(CORAL, 'mobilenet_v1_0.25_128_quant.tflite');
const COMPILED = join(CORAL, 'mobilenet_v1_0.25_128_quant_edgetpu.tflite');

function setup() {
  const dir = mkdtempSync(join(tmpdir(), 'edgetpu-compile-'));
  const history = openHistory(dir);
  const bytes = new Uint8Array(readFileSync(TWIN));
  const model = history.addModel({ name: 'mobilenet_v1_0.25_128', format: 'tflite', path: TWIN, sha256: sha256Hex(bytes) });
  const int8 = history.addVariant({ modelId: model.id, name: 'int8', recipe: { technique: 'int8' }, status: 'ready', artifact: { source: TWIN, kind: 'tflite' } });
  return { dir, history, int8, cleanup: () => { history.close(); rmSync(dir, { recursive: true, force: true }); } };
}

/** A stand-in for edgetpu_compiler at the process boundary (see the header). */
function standInCompiler(dir: string): string {
  const script = join(dir, 'edgetpu_compiler');
  writeFileSync(script, `#!/bin/sh
if [ "$1" = "--version" ]; then echo "Edge TPU Compiler version 16.0.384591198"; exit 0; fi
while [ $# -gt 1 ]; do case "$1" in -o) out="$2"; shift 2;; *) shift;; esac; done
model="$1"; stem=$(basename "$model" .tflite)
cp "${COMPILED}" "$out/\${stem}_edgetpu.tflite"
cat <<REPORT
Edge TPU Compiler version 16.0.384591198

Model compiled successfully in 412 ms.

Input model: $model
Output model: $out/\${stem}_edgetpu.tflite
On-chip memory used for caching model parameters: 553.25KiB
On-chip memory remaining for caching model parameters: 7.14MiB
Off-chip memory used for streaming uncached model parameters: 0.00B
Number of Edge TPU subgraphs: 1
Total number of operations: 31
Operation log: $out/\${stem}_edgetpu.log
See the operation log file for individual operation details.
REPORT
`);
  chmodSync(script, 0o755);
  return script;
}

test('without the compiler, compiling says so and how to get it, and stores nothing', async (t) => {
  if ((await findEdgeTpuCompiler()).found) return t.skip('edgetpu_compiler is installed on this machine');
  const { history, int8, cleanup } = setup();
  try {
    await assert.rejects(compileVariant(history, int8.id), (e: Error & { code?: string; hint?: string }) => {
      assert.equal(e.code, 'UNSUPPORTED');
      assert.match(e.message, /edgetpu_compiler not found/);
      assert.ok(e.hint && e.hint.length > 20, 'says how to install it (or that there is none for this OS)');
      return true;
    });
    assert.equal(history.variantsOfModel(int8.modelId).length, 1);
  } finally {
    cleanup();
  }
});

test('compiling stores a child variant with the report, and the compiled variant deploys on a stick', async () => {
  const { dir, history, int8, cleanup } = setup();
  const saved = process.env.EDGETPU_COMPILER;
  process.env.EDGETPU_COMPILER = standInCompiler(dir);
  try {
    const r = await compileVariant(history, int8.id);
    assert.equal(r.compiler.version, '16.0.384591198');
    assert.equal(r.report.subgraphCount, 1);
    assert.deepEqual(r.predicted, { mapped: 31, cpu: 0 });
    const child = history.getVariantDetail(r.variantId!);
    assert.equal(child.parentId, int8.id);
    assert.equal((child.recipe as { technique: string }).technique, 'edgetpu-compile');
    assert.deepEqual([...child.reportKinds].sort(), ['edgetpu-compat', 'edgetpu-compiler']);
    assert.equal(child.artifact?.sha256, sha256Hex(new Uint8Array(readFileSync(COMPILED))));

    const stick = new EmulatedCoralStick({ ports: [1] });
    stick.addModel({ compiled: new Uint8Array(readFileSync(COMPILED)), compute: await twinCompute(new Uint8Array(readFileSync(TWIN))) });
    const devices = new DeviceService({ history, backend: new EmulatorBackend([stick]) });
    const deployed = await devices.deploy({ variantId: child.id, device: stick.path, runs: 5 });
    assert.equal(deployed.agreement.agree, true, 'the compiled child runs and agrees with its int8 parent on the CPU');
    assert.equal(history.benchmarksOf(child.id).length, 1);
  } finally {
    if (saved === undefined) delete process.env.EDGETPU_COMPILER;
    else process.env.EDGETPU_COMPILER = saved;
    cleanup();
  }
});
