// Catalog downloads against a real node:http server on 127.0.0.1 serving a real model file: progress, a
// connection dropped mid-body then resumed with Range, a wrong checksum, HTTP errors, a server without Range
// support, cancel, and the 'catalog-download' job through the API recording the model in the history.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { downloadCatalogModel, DownloadError } from '../../main/catalog/download.ts';
import { createServices } from '../../main/api/services.ts';
import { createApi } from '../../main/api/index.ts';
import type { CatalogModel } from '../../preload/contract.ts';

const FILE = new URL('../../../shared/fixtures/coral/mobilenet_v1_0.25_128_quant_edgetpu.tflite', import.meta.url);
const BYTES = readFileSync(FILE);
const SHA = createHash('sha256').update(BYTES).digest('hex');

interface ServerOptions {
  /** Close the socket after this many body bytes of the first full (non-range) response. */
  dropAfter?: number;
  ranges?: boolean;
  status?: number;
  /** Delay between 64 KiB chunks (ms), for cancel tests. */
  slowMs?: number;
}

async function serve(opts: ServerOptions = {}) {
  const requests: { range: string | undefined }[] = [];
  let dropped = false;
  const server = http.createServer((req, res) => {
    requests.push({ range: req.headers.range });
    if (opts.status) {
      res.writeHead(opts.status, { 'content-type': 'text/plain' });
      return res.end('nope');
    }
    const m = /^bytes=(\d+)-$/.exec(req.headers.range ?? '');
    let start = 0;
    if (m && opts.ranges !== false) {
      start = Number(m[1]);
      if (start >= BYTES.length) {
        res.writeHead(416, { 'content-range': `bytes */${BYTES.length}` });
        return res.end();
      }
      res.writeHead(206, { 'content-length': BYTES.length - start, 'content-range': `bytes ${start}-${BYTES.length - 1}/${BYTES.length}` });
    } else {
      res.writeHead(200, { 'content-length': BYTES.length });
    }
    const body = BYTES.subarray(start);
    if (opts.dropAfter !== undefined && !dropped && start === 0) {
      dropped = true;
      res.write(body.subarray(0, opts.dropAfter), () => setTimeout(() => res.socket?.destroy(), 20));
      return;
    }
    if (opts.slowMs) {
      let i = 0;
      const tick = () => {
        if (res.destroyed) return;
        if (i >= body.length) return void res.end();
        res.write(body.subarray(i, i + 65536));
        i += 65536;
        setTimeout(tick, opts.slowMs);
      };
      return tick();
    }
    res.end(body);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/mobilenet_edgetpu.tflite`;
  return {
    url,
    requests,
    async [Symbol.asyncDispose]() {
      server.closeAllConnections();
      await new Promise((r) => server.close(r));
    },
  };
}

function entry(url: string, over: Partial<CatalogModel> = {}): CatalogModel {
  return {
    id: 'test-model', name: 'Test MobileNet', task: 'classification', description: 'test', target: 'edgetpu',
    input: { width: 128, height: 128, channels: 3, dtype: 'uint8' }, fileName: 'm_edgetpu.tflite', url,
    sizeBytes: BYTES.length, sha256: SHA, licence: 'Apache-2.0', publishedSize: [], accuracy: [], latency: [], ...over,
  };
}

function tempDir() {
  const dir = mkdtempSync(join(tmpdir(), 'edgewise-dl-'));
  return { dir, [Symbol.dispose]: () => rmSync(dir, { recursive: true, force: true }) };
}

test('downloads with progress, checks size and sha256, renames atomically; a second call finds it', async () => {
  await using s = await serve();
  using t = tempDir();
  const seen: number[] = [];
  const r = await downloadCatalogModel(entry(s.url), t.dir, { onProgress: (p) => seen.push(p.receivedBytes) });
  assert.equal(r.verified, true);
  assert.equal(r.sha256, SHA);
  assert.equal(r.sizeBytes, BYTES.length);
  assert.deepEqual(readFileSync(r.path), BYTES);
  assert.equal(existsSync(`${r.path}.part`), false);
  assert.equal(seen.at(-1), BYTES.length);
  assert.ok(seen.length >= 2, 'progress reported while receiving');
  const again = await downloadCatalogModel(entry(s.url), t.dir);
  assert.equal(again.alreadyPresent, true);
  assert.equal(s.requests.length, 1, 'no second request for a file already there');
});

test('a connection dropped mid-body keeps the .part file; the next call resumes with Range', async () => {
  await using s = await serve({ dropAfter: 300_000 });
  using t = tempDir();
  await assert.rejects(downloadCatalogModel(entry(s.url), t.dir), (e: unknown) => {
    assert.ok(e instanceof DownloadError);
    assert.equal(e.resumable, true);
    assert.match(e.message, /stopped after 300000 bytes: .*partial file is kept/);
    return true;
  });
  const part = join(t.dir, 'm_edgetpu.tflite.part');
  assert.equal(statSync(part).size, 300_000);
  const r = await downloadCatalogModel(entry(s.url), t.dir);
  assert.equal(r.resumedFromBytes, 300_000);
  assert.equal(s.requests[1]!.range, 'bytes=300000-');
  assert.deepEqual(readFileSync(r.path), BYTES);
  assert.equal(r.verified, true);
});

test('a server without Range support restarts from zero and still ends verified', async () => {
  await using s = await serve({ dropAfter: 100_000, ranges: false });
  using t = tempDir();
  await assert.rejects(downloadCatalogModel(entry(s.url), t.dir), DownloadError);
  const r = await downloadCatalogModel(entry(s.url), t.dir);
  assert.equal(r.verified, true);
  assert.deepEqual(readFileSync(r.path), BYTES);
});

test('a wrong checksum removes the file and says so; no checksum → unverified', async () => {
  await using s = await serve();
  using t = tempDir();
  await assert.rejects(downloadCatalogModel(entry(s.url, { sha256: '0'.repeat(64) }), t.dir), (e: unknown) => {
    assert.ok(e instanceof DownloadError);
    assert.equal(e.code, 'BAD_DATA');
    assert.match(e.message, new RegExp(`wrong checksum \\(sha256 ${SHA}, expected 0{64}\\); the file was removed`));
    return true;
  });
  assert.equal(existsSync(join(t.dir, 'm_edgetpu.tflite.part')), false);
  assert.equal(existsSync(join(t.dir, 'm_edgetpu.tflite')), false);
  const r = await downloadCatalogModel(entry(s.url, { sha256: null, sizeBytes: null }), t.dir);
  assert.equal(r.verified, false);
  assert.equal(r.sha256, SHA);
});

test('HTTP errors and size mismatches are clear errors naming the model and URL', async () => {
  using t = tempDir();
  {
    await using s = await serve({ status: 404 });
    await assert.rejects(downloadCatalogModel(entry(s.url), t.dir), /Downloading Test MobileNet \(http:\/\/127\.0\.0\.1:\d+\/mobilenet_edgetpu\.tflite\) failed: HTTP 404 Not Found/);
  }
  {
    await using s = await serve();
    await assert.rejects(downloadCatalogModel(entry(s.url, { sizeBytes: 1234 }), t.dir), /offers 801454 bytes but the catalog says 1234/);
  }
});

test('cancel via the signal stops the download and keeps the bytes for resuming', async () => {
  await using s = await serve({ slowMs: 30 });
  using t = tempDir();
  const ac = new AbortController();
  const p = downloadCatalogModel(entry(s.url), t.dir, {
    signal: ac.signal,
    onProgress: ({ receivedBytes }) => receivedBytes > 100_000 && ac.abort(),
  });
  await assert.rejects(p, (e: unknown) => e instanceof DownloadError && e.code === 'CANCELLED' && e.resumable);
  const have = statSync(join(t.dir, 'm_edgetpu.tflite.part')).size;
  assert.ok(have > 100_000 && have < BYTES.length, `kept ${have} bytes`);
});

test('catalog.download runs as a job and records the model with a deployable variant', async () => {
  await using s = await serve();
  using t = tempDir();
  const services = createServices({ dataDir: t.dir });
  try {
    const job = services.jobs.submit('catalog-download', { entry: entry(s.url) });
    const done = await services.jobs.wait(job.id);
    assert.equal(done.state, 'completed', done.error ?? '');
    const result = done.result as { modelId: string; variantId: string; verified: boolean; path: string };
    assert.equal(result.verified, true);
    const v = services.history.getVariant(result.variantId);
    assert.equal(v.artifact?.sha256, SHA);
    assert.equal(services.history.getModel(result.modelId).format, 'edgetpu-tflite');

    // Through the API: unknown ids are NOT_FOUND before any job starts; the listed catalog validates.
    const api = createApi(services);
    const bad = await api.handlers['catalog.download']({ id: 'no-such-model' });
    assert.ok(!bad.ok);
    assert.equal(bad.error.code, 'NOT_FOUND');
  } finally {
    await services.close();
  }
});
