// The web test host's bridge: the same API over a WebSocket, guarded by the per-run token and the Origin check,
// with the app's security headers on every page. Uses a tiny stand-in renderer folder (the real renderer build
// is exercised by the Playwright tests).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { once } from 'node:events';
import { WebSocket } from 'ws';
import { startTestHost } from '../../host/serve.ts';
import type { TestHost } from '../../host/serve.ts';

async function withHost(fn: (host: TestHost) => Promise<void>) {
  const dir = mkdtempSync(join(tmpdir(), 'edgewise-host-'));
  const rendererDir = join(dir, 'renderer');
  const dataDir = join(dir, 'data');
  mkdirSync(rendererDir);
  writeFileSync(join(rendererDir, 'index.html'), '<!doctype html><head><script type="module" src="./app.js"></script></head><body></body>');
  writeFileSync(join(rendererDir, 'app.js'), 'console.log(1)');
  const host = await startTestHost({ dataDir, rendererDir });
  try {
    await fn(host);
  } finally {
    await host.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

function socketUrl(host: TestHost, token: string | null) {
  return `${host.origin.replace('http', 'ws')}/__edgewise/ws${token === null ? '' : `?token=${encodeURIComponent(token)}`}`;
}

/** Opens a socket; resolves with it when open, or with the HTTP status of the refusal. */
async function connect(url: string, origin: string): Promise<WebSocket | number> {
  const ws = new WebSocket(url, { origin });
  return new Promise((resolve, reject) => {
    ws.once('open', () => resolve(ws));
    ws.once('unexpected-response', (_req, res) => resolve(res.statusCode ?? 0));
    ws.once('error', reject);
  });
}

test('a round trip through the WebSocket reaches the real API; events are pushed', async () => {
  await withHost(async (host) => {
    const ws = await connect(socketUrl(host, host.token), host.origin);
    assert.ok(ws instanceof WebSocket);
    const replies: unknown[] = [];
    ws.on('message', (data) => replies.push(JSON.parse(String(data))));

    ws.send(JSON.stringify({ id: 1, method: 'history.listModels', args: {} }));
    ws.send(JSON.stringify({ id: 2, method: 'history.listModels', args: { limit: -1 } }));
    ws.send(JSON.stringify({ id: 3, method: 'no.such', args: {} }));
    while (replies.length < 3) await once(ws, 'message');
    const byId = Object.fromEntries(replies.map((r) => [(r as { id: number }).id, (r as { result: unknown }).result]));
    assert.deepEqual(byId[1], { ok: true, value: { items: [], total: 0 } });
    assert.equal((byId[2] as { error: { code: string } }).error.code, 'INVALID_ARGUMENT');
    assert.match((byId[3] as { error: { message: string } }).error.message, /Unknown API method "no\.such"/);

    host.services.events.publish({ type: 'devices' });
    const [event] = await once(ws, 'message');
    assert.deepEqual(JSON.parse(String(event)), { event: { type: 'devices' } });
    ws.close();
  });
});

test('connections without the token, with a wrong token or from another origin are refused', async () => {
  await withHost(async (host) => {
    assert.equal(await connect(socketUrl(host, null), host.origin), 401);
    assert.equal(await connect(socketUrl(host, 'x'.repeat(host.token.length)), host.origin), 401);
    assert.equal(await connect(socketUrl(host, host.token), 'http://evil.example'), 401);
  });
});

test('pages carry the CSP and cross-origin isolation headers, and the client script is injected first', async () => {
  await withHost(async (host) => {
    const res = await fetch(`${host.origin}/`);
    assert.equal(res.status, 200);
    assert.match(res.headers.get('content-security-policy') ?? '', /script-src 'self'/);
    assert.equal(res.headers.get('cross-origin-opener-policy'), 'same-origin');
    assert.equal(res.headers.get('cross-origin-embedder-policy'), 'require-corp');
    const html = await res.text();
    assert.ok(html.indexOf('__edgewise/client.js') < html.indexOf('./app.js'), 'client before the renderer');
    assert.equal((await fetch(`${host.origin}/__edgewise/client.js`)).status, 200);
    assert.equal((await fetch(`${host.origin}/..%2F..%2Fpackage.json`)).status, 403);
    assert.equal((await fetch(`${host.origin}/missing.js`)).status, 404);
  });
});

test('the test pick endpoint needs the token and answers the next files.pick', async () => {
  await withHost(async (host) => {
    const post = (body: unknown, token: string) =>
      fetch(`${host.origin}/__test/pick`, { method: 'POST', headers: { 'x-edgewise-token': token }, body: JSON.stringify(body) });
    assert.equal((await post({ path: '/tmp/m.tflite' }, 'wrong')).status, 403);
    assert.equal((await post({ path: '/tmp/m.tflite' }, host.token)).status, 200);
    const picked = await host.services.files.pick('model');
    assert.equal(picked?.name, 'm.tflite');
    assert.equal(host.services.files.resolve(picked!.handle, 'model'), '/tmp/m.tflite');
  });
});
