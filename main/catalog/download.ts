/**
 * Downloading a catalog model: HTTP(S) with progress, resume, size and SHA-256 checks, atomic rename.
 *
 * Bytes go to `<dest>/<fileName>.part`. A dropped connection keeps the `.part` file; the next call sends
 * `Range: bytes=<have>-` and appends (a server answering 200 instead of 206 restarts from zero). Only a
 * complete file whose size and checksum match is renamed to its final name, so a file under the final name is
 * always whole. A wrong checksum removes the `.part` file (resuming onto bad bytes would never succeed).
 */
import { createHash } from 'node:crypto';
import { closeSync, createReadStream, existsSync, fsyncSync, openSync, renameSync, rmSync, statSync, writeSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import http from 'node:http';
import https from 'node:https';
import { join } from 'node:path';
import type { CatalogModel } from '../../preload/contract.ts';

export interface DownloadProgress {
  receivedBytes: number;
  /** null when neither the catalog nor the server says how big the file is. */
  totalBytes: number | null;
}

export interface DownloadOptions {
  onProgress?: (p: DownloadProgress) => void;
  signal?: AbortSignal;
  /** Give up when no byte arrives for this long (ms). Default 30 s. */
  idleTimeoutMs?: number;
}

export interface DownloadResult {
  path: string;
  sizeBytes: number;
  sha256: string;
  /** true when the catalog has a checksum and it matched; false = "unverified". */
  verified: boolean;
  /** Bytes that were already there from an earlier, interrupted attempt. */
  resumedFromBytes: number;
  alreadyPresent: boolean;
}

export class DownloadError extends Error {
  constructor(
    message: string,
    readonly code: 'NOT_FOUND' | 'BAD_DATA' | 'INTERNAL' | 'CANCELLED' | 'UNSUPPORTED',
    /** true when calling again continues from the bytes already saved. */
    readonly resumable: boolean,
    readonly hint?: string,
  ) {
    super(message);
    this.name = 'DownloadError';
  }
}

async function sha256OfFile(path: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

const fileSize = (path: string) => (existsSync(path) ? statSync(path).size : 0);

interface Response {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: http.IncomingMessage;
}

function request(url: string, headers: Record<string, string>, signal: AbortSignal | undefined, redirects = 5): Promise<Response> {
  return new Promise((resolve, reject) => {
    const u = new URL(url);
    const lib = u.protocol === 'https:' ? https : u.protocol === 'http:' ? http : null;
    if (!lib) return reject(new DownloadError(`Cannot download ${url}: only http and https are supported`, 'UNSUPPORTED', false));
    const req = lib.get(u, { headers: { 'user-agent': 'edgewise', ...headers }, ...(signal ? { signal } : {}) }, (res) => {
      const status = res.statusCode ?? 0;
      if ([301, 302, 303, 307, 308].includes(status) && res.headers.location) {
        res.resume();
        if (redirects === 0) return reject(new DownloadError(`Too many redirects downloading ${url}`, 'INTERNAL', true));
        return resolve(request(new URL(res.headers.location, u).toString(), headers, signal, redirects - 1));
      }
      resolve({ status, headers: res.headers, body: res });
    });
    req.on('error', (e) => reject(e));
  });
}

/**
 * Downloads `entry.url` to `<destDir>/<entry.fileName>` (see the module comment for resume and checks).
 * Returns at once when the final file is already there and matches.
 */
export async function downloadCatalogModel(entry: CatalogModel, destDir: string, options: DownloadOptions = {}): Promise<DownloadResult> {
  const { signal } = options;
  await mkdir(destDir, { recursive: true });
  const target = join(destDir, entry.fileName);
  const part = `${target}.part`;
  const label = `${entry.name} (${entry.url})`;

  if (existsSync(target)) {
    const sha256 = await sha256OfFile(target);
    const size = fileSize(target);
    if ((entry.sha256 === null || sha256 === entry.sha256) && (entry.sizeBytes === null || size === entry.sizeBytes)) {
      return { path: target, sizeBytes: size, sha256, verified: entry.sha256 !== null, resumedFromBytes: 0, alreadyPresent: true };
    }
    rmSync(target); // a different file under our name: fetch it again
  }

  let have = fileSize(part);
  if (entry.sizeBytes !== null && have > entry.sizeBytes) {
    rmSync(part);
    have = 0;
  }
  const resumedFromBytes = have;
  let total: number | null = entry.sizeBytes;

  if (entry.sizeBytes === null || have < entry.sizeBytes) {
    let res: Response;
    try {
      res = await request(entry.url, have > 0 ? { range: `bytes=${have}-` } : {}, signal);
    } catch (e) {
      throw networkError(e, label, part, have, signal);
    }
    if (res.status === 416 && have > 0) {
      // The server has nothing after our bytes: the .part file is complete (checked below).
      res.body.resume();
    } else {
      if (res.status === 200 && have > 0) have = 0; // no range support: start over
      else if (res.status === 206) {
        const start = /bytes (\d+)-/.exec(String(res.headers['content-range'] ?? ''))?.[1];
        if (Number(start) !== have) {
          res.body.resume();
          rmSync(part, { force: true });
          throw new DownloadError(`${label}: the server resumed at byte ${start ?? '?'} instead of ${have}; the partial file was removed`, 'INTERNAL', true, 'Download again to start over.');
        }
      } else if (res.status !== 200) {
        res.body.resume();
        throw new DownloadError(
          `Downloading ${label} failed: HTTP ${res.status}${res.body.statusMessage ? ` ${res.body.statusMessage}` : ''}`,
          res.status === 404 || res.status === 410 ? 'NOT_FOUND' : 'INTERNAL',
          res.status >= 500,
          res.status === 404 ? 'The file may have moved; check for an Edgewise update with a new catalog.' : 'Try again later.',
        );
      }
      const length = Number(res.headers['content-length']);
      if (Number.isFinite(length) && res.headers['content-length'] !== undefined) {
        const serverTotal = have + length;
        if (entry.sizeBytes !== null && serverTotal !== entry.sizeBytes) {
          res.body.resume();
          throw new DownloadError(`${label}: the server offers ${serverTotal} bytes but the catalog says ${entry.sizeBytes}`, 'BAD_DATA', false, 'The hosted file changed; check for an Edgewise update with a new catalog.');
        }
        total = serverTotal;
      }
      have = await receive(res.body, part, have, total, label, options);
    }
  }

  const size = fileSize(part);
  if (entry.sizeBytes !== null && size !== entry.sizeBytes) {
    rmSync(part, { force: true });
    throw new DownloadError(`${label}: got ${size} bytes, expected ${entry.sizeBytes}; the partial file was removed`, 'BAD_DATA', false, 'Download again.');
  }
  const sha256 = await sha256OfFile(part);
  if (entry.sha256 !== null && sha256 !== entry.sha256) {
    rmSync(part, { force: true });
    throw new DownloadError(
      `${label}: wrong checksum (sha256 ${sha256}, expected ${entry.sha256}); the file was removed`,
      'BAD_DATA',
      false,
      'The download was corrupted or the hosted file changed. Try again; if it keeps failing, the catalog entry is out of date.',
    );
  }
  renameSync(part, target);
  return { path: target, sizeBytes: size, sha256, verified: entry.sha256 !== null, resumedFromBytes, alreadyPresent: false };
}

/** Streams the body onto the .part file (fsynced before returning); returns the bytes now on disk. */
function receive(body: http.IncomingMessage, part: string, have: number, total: number | null, label: string, options: DownloadOptions): Promise<number> {
  const { onProgress, signal } = options;
  const fd = openSync(part, have > 0 ? 'a' : 'w');
  let received = have;
  return new Promise<number>((resolve, reject) => {
    let settled = false;
    const finish = (err: unknown) => {
      if (settled) return;
      settled = true;
      clearTimeout(idle);
      try {
        fsyncSync(fd);
      } finally {
        closeSync(fd);
      }
      if (err) reject(networkError(err, label, part, received, signal));
      else resolve(received);
    };
    const idleMs = options.idleTimeoutMs ?? 30_000;
    let idle = setTimeout(() => body.destroy(new Error(`no data for ${idleMs / 1000} s`)), idleMs);
    onProgress?.({ receivedBytes: received, totalBytes: total });
    body.on('data', (chunk: Buffer) => {
      if (settled) return;
      writeSync(fd, chunk);
      received += chunk.length;
      clearTimeout(idle);
      idle = setTimeout(() => body.destroy(new Error(`no data for ${idleMs / 1000} s`)), idleMs);
      onProgress?.({ receivedBytes: received, totalBytes: total });
    });
    // 'aborted' fires when the server closes the socket mid-body; 'end' alone would look like success.
    body.on('aborted', () => finish(new Error('the connection was closed by the server')));
    body.on('error', (e) => finish(e));
    body.on('end', () => {
      if (total !== null && received < total) finish(new Error('the connection ended early'));
      else finish(null);
    });
  });
}

function networkError(e: unknown, label: string, part: string, have: number, signal: AbortSignal | undefined): DownloadError {
  if (e instanceof DownloadError) return e;
  if (signal?.aborted || (e as Error).name === 'AbortError') {
    return new DownloadError(`Download of ${label} was cancelled after ${have} bytes`, 'CANCELLED', true, 'Download again to continue where it stopped.');
  }
  return new DownloadError(
    `Downloading ${label} stopped after ${have} bytes: ${(e as Error).message}. The partial file is kept at ${part}.`,
    'INTERNAL',
    true,
    'Check the network connection and download again: it continues where it stopped.',
  );
}
