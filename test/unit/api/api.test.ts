// The API layer on plain Node with a real temporary history: validation, unknown methods, error mapping,
// file handles and events — what every transport (IPC, the web test host, the CLI) relies on.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createApi } from '../../../main/api/index.ts';
import { createServices } from '../../../main/api/services.ts';
import { ApiFailure, toApiError } from '../../../main/api/errors.ts';
import type { ApiEvent } from '../../../preload/contract.ts';

/** Runs fn with console.error silenced (the layer logs INTERNAL errors and throwing listeners on purpose). */
async function quietly<T>(fn: () => Promise<T>): Promise<T> {
  const original = console.error;
  console.error = () => {};
  try {
    return await fn();
  } finally {
    console.error = original;
  }
}

function setup(picks: (string | null)[] = []) {
  const dir = mkdtempSync(join(tmpdir(), 'edgewise-api-'));
  const services = createServices({ dataDir: dir, picker: { pick: async () => picks.shift() ?? null } });
  const api = createApi(services);
  return {
    api,
    services,
    async [Symbol.asyncDispose]() {
      await services.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

test('valid calls return {ok:true,value} from the real history', async () => {
  await using t = setup();
  const empty = await t.api.dispatch('history.listModels', {});
  assert.deepEqual(empty, { ok: true, value: { items: [], total: 0 } });

  const model = t.services.history.addModel({ name: 'mnist-cnn', format: 'keras', path: '/models/m.keras', sha256: 'ab'.repeat(32), parameterCount: 1234 });
  const listed = await t.api.handlers['history.listModels']({ search: 'mnist' });
  assert.ok(listed.ok);
  assert.equal(listed.value.total, 1);
  assert.equal(listed.value.items[0]!.id, model.id);
  assert.equal(listed.value.items[0]!.parameterCount, 1234);
});

test('bad arguments give INVALID_ARGUMENT naming the method and the bad field', async () => {
  await using t = setup();
  const tooBig = await t.api.dispatch('history.listVariants', { limit: 5000 });
  assert.equal(tooBig.ok, false);
  assert.ok(!tooBig.ok);
  assert.equal(tooBig.error.code, 'INVALID_ARGUMENT');
  assert.match(tooBig.error.message, /^history\.listVariants: limit: /);

  const wrongType = await t.api.dispatch('history.getVariant', { id: 42 });
  assert.ok(!wrongType.ok);
  assert.match(wrongType.error.message, /history\.getVariant: id: .*expected string/);

  const badEnum = await t.api.dispatch('files.pick', { purpose: 'secrets' });
  assert.ok(!badEnum.ok);
  assert.match(badEnum.error.message, /purpose: .*"model"\|"dataset"\|"export"/);

  const notAnObject = await t.api.dispatch('jobs.list', null);
  assert.ok(!notAnObject.ok);
  assert.equal(notAnObject.error.code, 'INVALID_ARGUMENT');
});

test('unknown keys are rejected, not ignored', async () => {
  await using t = setup();
  const result = await t.api.dispatch('history.listModels', { serach: 'typo' });
  assert.ok(!result.ok);
  assert.equal(result.error.code, 'INVALID_ARGUMENT');
  assert.match(result.error.message, /serach/);
});

test('an unknown method is INVALID_ARGUMENT and names it; so is a non-string or inherited name', async () => {
  await using t = setup();
  const result = await t.api.dispatch('history.dropEverything', {});
  assert.ok(!result.ok);
  assert.equal(result.error.code, 'INVALID_ARGUMENT');
  assert.match(result.error.message, /Unknown API method "history\.dropEverything"/);
  assert.match(result.error.hint ?? '', /history\.listModels/);
  for (const name of ['toString', '__proto__', 'constructor']) {
    const r = await t.api.dispatch(name, {});
    assert.ok(!r.ok && r.error.code === 'INVALID_ARGUMENT', name);
  }
});

test('service errors keep their code and hint; other errors become INTERNAL with the message', async () => {
  await using t = setup();
  const missing = await t.api.dispatch('history.getVariant', { id: 'no-such-variant' });
  assert.ok(!missing.ok);
  assert.equal(missing.error.code, 'NOT_FOUND');
  assert.match(missing.error.message, /no-such-variant/);

  assert.deepEqual(toApiError(new ApiFailure('DEVICE', 'Coral busy', 'Close the other app')), { code: 'DEVICE', message: 'Coral busy', hint: 'Close the other app' });
  assert.deepEqual(toApiError(Object.assign(new Error('nope'), { code: 'ENOENT' })), { code: 'INTERNAL', message: 'nope' });
  assert.deepEqual(toApiError(new DOMException('stopped', 'AbortError')), { code: 'CANCELLED', message: 'stopped' });
  assert.deepEqual(toApiError('plain string'), { code: 'INTERNAL', message: 'plain string' });

  // A database failure underneath a handler: still a Result, never a throw.
  t.services.history.close();
  const broken = await quietly(() => t.api.dispatch('history.listModels', {}));
  assert.ok(!broken.ok);
  assert.equal(broken.error.code, 'INTERNAL');
  assert.match(broken.error.message, /database connection is not open/i);
});

test('files.pick returns an opaque handle; only picked handles resolve, and only for their purpose', async () => {
  await using t = setup(['/home/user/models/mnist.keras', null]);
  const picked = await t.api.handlers['files.pick']({ purpose: 'model' });
  assert.ok(picked.ok && picked.value);
  assert.equal(picked.value.name, 'mnist.keras');
  assert.equal(picked.value.purpose, 'model');
  assert.ok(!picked.value.handle.includes('/'), 'the handle must not leak the path');
  assert.ok(!JSON.stringify(picked.value).includes('/home/user'), 'no path reaches the renderer');
  assert.equal(t.services.files.resolve(picked.value.handle, 'model'), '/home/user/models/mnist.keras');

  assert.throws(() => t.services.files.resolve(picked.value!.handle, 'dataset'), (e: ApiFailure) => e.code === 'FORBIDDEN' && /picked as a model/.test(e.message));
  assert.throws(() => t.services.files.resolve('../../etc/passwd', 'model'), (e: ApiFailure) => e.code === 'FORBIDDEN');

  const cancelled = await t.api.dispatch('files.pick', { purpose: 'dataset', folder: true });
  assert.deepEqual(cancelled, { ok: true, value: null });
});

test('files.pick without a picker (CLI, headless) is UNSUPPORTED with a hint', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'edgewise-api-'));
  const services = createServices({ dataDir: dir });
  try {
    const result = await createApi(services).dispatch('files.pick', { purpose: 'model' });
    assert.ok(!result.ok);
    assert.equal(result.error.code, 'UNSUPPORTED');
    assert.ok(result.error.hint);
  } finally {
    await services.close();
    rmSync(dir, { recursive: true, force: true });
  }
});

test('events published by services reach subscribers until they unsubscribe; a throwing listener does not stop others', async () => {
  await using t = setup();
  const seen: ApiEvent[] = [];
  const unsubscribe = t.api.subscribe((event) => seen.push(event));
  const stopBroken = t.api.subscribe(() => {
    throw new Error('broken window');
  });
  await quietly(async () => t.services.events.publish({ type: 'devices' }));
  unsubscribe();
  stopBroken();
  t.services.events.publish({ type: 'devices' });
  assert.deepEqual(seen, [{ type: 'devices' }]);
  assert.equal(t.services.events.listenerCount, 0);
});
