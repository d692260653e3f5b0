// EDGEWISE_BACKEND selects the tfjs backend. The choice is made once per process (a failed choice is retried), so
// each scenario runs in a fresh child process: one tries bad values then the default, one forces cpu.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../../../', import.meta.url));

function runWith(values: (string | undefined)[]): string[] {
  const script = `import { initCompute } from './native-bridges/tfjs-backend.ts';
for (const v of ${JSON.stringify(values.map((v) => v ?? null))}) {
  if (v === null) delete process.env.EDGEWISE_BACKEND; else process.env.EDGEWISE_BACKEND = v;
  try { console.log('RESULT=' + (await initCompute()).backend); } catch (e) { console.log('RESULT=error: ' + e.message); }
}`;
  const r = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { cwd: root, encoding: 'utf8' });
  const lines = r.stdout.split('\n').filter((l) => l.startsWith('RESULT=')).map((l) => l.slice(7));
  assert.equal(lines.length, values.length, `stderr: ${r.stderr.slice(0, 500)}`);
  return lines;
}

test('bad EDGEWISE_BACKEND values are explained; the default here is wasm (tfjs-node is not installed)', () => {
  const [gpu, tensorflow, dflt] = runWith(['gpu', 'tensorflow', undefined]);
  assert.match(gpu, /EDGEWISE_BACKEND="gpu" is not one of wasm, cpu, tensorflow/);
  assert.match(tensorflow, /EDGEWISE_BACKEND=tensorflow but @tensorflow\/tfjs-node cannot be loaded/);
  assert.equal(dflt, 'wasm');
});

test('EDGEWISE_BACKEND=cpu forces the cpu backend', () => {
  assert.deepEqual(runWith(['cpu']), ['cpu']);
});
