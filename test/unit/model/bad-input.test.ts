// Bad model files are rejected with a clear Error naming the file (and layer/op), never a crash or hang.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { unzipSync, zipSync, strToU8 } from 'fflate';
import { loadModel } from '../../../main/model/load.ts';
import { FIXTURES } from '../../helpers/models.ts';

const dir = mkdtempSync(join(tmpdir(), 'edgewise-bad-'));
const write = (name: string, bytes: Uint8Array | string) => {
  const p = join(dir, name);
  writeFileSync(p, bytes);
  return p;
};

test('truncated and corrupt .keras / .h5 files', async () => {
  const keras = readFileSync(`${FIXTURES}keras/convnet.keras`);
  const p1 = write('trunc.keras', keras.subarray(0, keras.length / 2));
  await assert.rejects(loadModel(p1), (e: Error) => e.message.startsWith(p1) && /corrupt or truncated/.test(e.message));
  const h5 = readFileSync(`${FIXTURES}h5/convnet.h5`);
  const p2 = write('trunc.h5', h5.subarray(0, 3000));
  await assert.rejects(loadModel(p2), (e: Error) => e.message.startsWith(p2));
  const garbage = new Uint8Array(4096).map((_, i) => (i * 7919) & 0xff);
  garbage.set([0x89, 0x48, 0x44, 0x46, 0x0d, 0x0a, 0x1a, 0x0a]);
  const p3 = write('garbage.h5', garbage);
  await assert.rejects(loadModel(p3), (e: Error) => e.message.startsWith(p3) && /corrupt/.test(e.message));
  const p4 = write('unknown.bin', new Uint8Array([1, 2, 3, 4, 5, 6, 7, 8]));
  await assert.rejects(loadModel(p4), /unrecognized model format/);
});

test('.keras archives with escaping paths or absurd sizes are refused before inflating', async () => {
  const entries = unzipSync(readFileSync(`${FIXTURES}keras/mlp.keras`));
  const p1 = write('escape.keras', zipSync({ ...entries, '../evil.txt': strToU8('x') }));
  await assert.rejects(loadModel(p1), /escapes the archive folder/);
  // Patch the central directory's uncompressed size of config.json to 3 GiB.
  const zip = zipSync(entries, { level: 0 });
  const view = new DataView(zip.buffer);
  for (let i = 0; i < zip.length - 46; i++) {
    if (view.getUint32(i, true) === 0x02014b50) {
      const nameLen = view.getUint16(i + 28, true);
      const name = new TextDecoder().decode(zip.subarray(i + 46, i + 46 + nameLen));
      if (name === 'config.json') view.setUint32(i + 24, 3 * 2 ** 30, true);
    }
  }
  const p2 = write('bomb.keras', zip);
  await assert.rejects(loadModel(p2), /absurd sizes/);
});

test('weights-only .h5 explains how to save a full model', async () => {
  const { writeHdf5 } = await import('../../../main/model/hdf5.ts');
  const p = write('weights-only.h5', await writeHdf5((f) => f.create_group('dense').create_dataset({ name: 'kernel', data: new Float32Array(4), shape: [2, 2], dtype: '<f' })));
  await assert.rejects(loadModel(p), /no model_config attribute.*model\.save/);
});

function tfjsCopy(name: string, edit: (json: any) => void): string {
  const d = join(dir, name);
  mkdirSync(d, { recursive: true });
  copyFileSync(`${FIXTURES}tfjs/mlp/weights.bin`, join(d, 'weights.bin'));
  const json = JSON.parse(readFileSync(`${FIXTURES}tfjs/mlp/model.json`, 'utf8'));
  edit(json);
  writeFileSync(join(d, 'model.json'), JSON.stringify(json));
  return join(d, 'model.json');
}

test('model.json: weight paths outside the folder, truncated shards, gigantic shapes', async () => {
  const p1 = tfjsCopy('escape', (j) => (j.weightsManifest[0].paths = ['../../etc/passwd']));
  await assert.rejects(loadModel(p1), /points outside the model folder/);
  const p2 = tfjsCopy('abs', (j) => (j.weightsManifest[0].paths = ['/etc/passwd']));
  await assert.rejects(loadModel(p2), /points outside the model folder/);
  const p3 = tfjsCopy('trunc', () => {});
  writeFileSync(join(p3, '..', 'weights.bin'), new Uint8Array(100));
  await assert.rejects(loadModel(p3), /truncated/);
  const p4 = tfjsCopy('huge', (j) => (j.weightsManifest[0].weights[0].shape = [65536, 65536, 4]));
  await assert.rejects(loadModel(p4), (e: Error) => e.message.startsWith(p4) && /GiB/.test(e.message));
});

test('unsupported and custom layers name the layer, its class and the way out', async () => {
  const p1 = tfjsCopy('lstm', (j) => {
    const layers = j.modelTopology.config.layers;
    layers.splice(1, 0, { class_name: 'LSTM', config: { name: 'my_lstm', units: 4 } });
  });
  await assert.rejects(loadModel(p1), (e: Error) =>
    /layer "my_lstm" \(LSTM\): is not supported\. Supported layers: .*Conv2D/.test(e.message) && e.message.startsWith(p1));
  const p2 = tfjsCopy('custom', (j) => {
    j.modelTopology.config.layers.splice(1, 0, { class_name: 'MyBlock', config: null });
  });
  await assert.rejects(loadModel(p2), /MyBlock.*subclassed or custom layer.*TFLite/);
  const p3 = tfjsCopy('unknown-activation', (j) => (j.modelTopology.config.layers[0].config.activation = 'gelu'));
  await assert.rejects(loadModel(p3), /layer "h1" \(Dense\): activation "gelu" is not supported/);
});
