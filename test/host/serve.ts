/**
 * The web test host: serves the built renderer (dist-renderer) on 127.0.0.1 and bridges the API contract over a
 * WebSocket to the same `createApi(createServices(…))` the Electron shell uses, so Playwright drives the real
 * app in plain Chromium. Test-only (lives under test/, production never starts it).
 *
 * Security, even for a test server: a random per-run token (in the page URL's fragment, sent by the injected
 * client when it opens the socket) guards the socket and the test endpoints; the socket also checks Origin.
 * Pages get the app's CSP plus COOP/COEP (cross-origin isolation, for wasm threads).
 *
 * Test endpoints (token in the `x-edgewise-token` header):
 *   POST /__test/pick  {"path": "/abs/file"} | {"cancel": true} | {"fail": {"message", "hint"}}
 *                      — answers the next files.pick (a failing native dialog for "fail")
 *   POST /__test/drop  {"paths": ["/abs/model.keras", …]}            — as if dropped on the Electron window
 *   POST /__test/job   {"kind": "test.count", "params": {…}}       — submits a job (test kinds registered below)
 *
 * Run by hand: `npm run serve:test` (EDGEWISE_HOME picks the data folder, EDGEWISE_TEST_PORT the port).
 */
import { createServer } from 'node:http';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { randomBytes, timingSafeEqual } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { extname, join, normalize, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { AddressInfo } from 'node:net';
import { WebSocketServer } from 'ws';
import type { WebSocket } from 'ws';
import { createApi } from '../../main/api/index.ts';
import { createServices } from '../../main/api/services.ts';
import type { Services } from '../../main/api/services.ts';
import type { FilePicker } from '../../main/api/files.ts';
import { ApiFailure } from '../../main/api/errors.ts';
import { CONTENT_SECURITY_POLICY } from '../../main/app/csp.ts';
import { dataDir as defaultDataDir } from '../../main/paths.ts';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const CLIENT_JS = fileURLToPath(new URL('./client.js', import.meta.url));
const CLIENT_PATH = '/__edgewise/client.js';
const SOCKET_PATH = '/__edgewise/ws';
const PICK_WAIT_MS = 5_000;
/** Test-only job kinds, on top of the app's own. */
const TEST_JOB_KINDS = { 'test.count': new URL('./jobs/count.job.ts', import.meta.url) };

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json',
  '.wasm': 'application/wasm',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
};

const SECURITY_HEADERS = {
  'Content-Security-Policy': CONTENT_SECURITY_POLICY,
  'Cross-Origin-Opener-Policy': 'same-origin',
  'Cross-Origin-Embedder-Policy': 'require-corp',
  'Cross-Origin-Resource-Policy': 'same-origin',
  'X-Content-Type-Options': 'nosniff',
  'Referrer-Policy': 'no-referrer',
  'Cache-Control': 'no-store',
};

export interface TestHost {
  /** The page URL, token included (in the fragment). */
  url: string;
  origin: string;
  token: string;
  services: Services;
  close(): Promise<void>;
}

export interface TestHostOptions {
  dataDir: string;
  port?: number;
  /** The built renderer; default dist-renderer/ at the repository root. */
  rendererDir?: string;
}

/** files.pick answered from a queue the test fills through POST /__test/pick. */
type PickAnswer = string | null | ApiFailure;

class QueuePicker implements FilePicker {
  readonly #answers: PickAnswer[] = [];
  readonly #waiting: ((answer: PickAnswer) => void)[] = [];

  push(answer: PickAnswer): void {
    const waiter = this.#waiting.shift();
    if (waiter) waiter(answer);
    else this.#answers.push(answer);
  }

  async pick(): Promise<string | null> {
    const answer = this.#answers.length ? this.#answers.shift()! : await this.#next();
    if (answer instanceof ApiFailure) throw answer;
    return answer;
  }

  #next(): Promise<PickAnswer> {
    // Like a user who closes the dialog: no answer within the wait means "cancelled".
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.#waiting.splice(this.#waiting.indexOf(waiter), 1);
        resolve(null);
      }, PICK_WAIT_MS);
      const waiter = (answer: PickAnswer) => {
        clearTimeout(timer);
        resolve(answer);
      };
      this.#waiting.push(waiter);
    });
  }
}

function sameToken(given: string | null | undefined, token: string): boolean {
  if (!given) return false;
  const a = Buffer.from(given);
  const b = Buffer.from(token);
  return a.length === b.length && timingSafeEqual(a, b);
}

async function readBody(req: IncomingMessage, limit = 64 * 1024): Promise<string> {
  let body = '';
  for await (const chunk of req) {
    body += chunk;
    if (body.length > limit) throw new Error('request body too large');
  }
  return body;
}

export async function startTestHost(options: TestHostOptions): Promise<TestHost> {
  const rendererDir = resolve(options.rendererDir ?? join(ROOT, 'dist-renderer'));
  const indexHtml = await readFile(join(rendererDir, 'index.html'), 'utf8').catch(() => {
    throw new Error(`The web test host needs the built renderer at ${rendererDir}/index.html: run \`npm run build:renderer\` first.`);
  });
  // The client must run before the renderer's module script, and under the same 'self' script CSP.
  const page = indexHtml.replace('<script', `<script src=".${CLIENT_PATH}"></script>\n    <script`);
  const clientJs = await readFile(CLIENT_JS, 'utf8');

  const token = randomBytes(24).toString('base64url');
  const picker = new QueuePicker();
  const services = createServices({ dataDir: options.dataDir, picker, workerModules: TEST_JOB_KINDS });
  const api = createApi(services);
  let origin = '';

  const send = (res: ServerResponse, status: number, type: string, body: string | Buffer) => {
    res.writeHead(status, { ...SECURITY_HEADERS, 'Content-Type': type });
    res.end(body);
  };

  async function handleTestEndpoint(req: IncomingMessage, res: ServerResponse, pathname: string) {
    if (req.method !== 'POST' || !sameToken(req.headers['x-edgewise-token'] as string | undefined, token)) {
      return send(res, 403, 'text/plain', 'forbidden');
    }
    const body = JSON.parse((await readBody(req)) || '{}') as {
      path?: unknown; paths?: unknown; cancel?: unknown; fail?: { message?: string; hint?: string }; kind?: unknown; params?: unknown;
    };
    if (pathname === '/__test/pick') {
      if (body.cancel === true) picker.push(null);
      else if (body.fail) picker.push(new ApiFailure('UNSUPPORTED', body.fail.message ?? 'The file dialog failed.', body.fail.hint));
      else if (typeof body.path === 'string') picker.push(body.path);
      else return send(res, 400, 'text/plain', 'expected {"path": string} or {"cancel": true}');
      return send(res, 200, 'application/json', '{"ok":true}');
    }
    if (pathname === '/__test/drop') {
      // What the Electron shell does with paths the preload read from a real drop (main/app/main.ts).
      services.events.publish({ type: 'files-dropped', ...services.files.registerDropped(body.paths) });
      return send(res, 200, 'application/json', '{"ok":true}');
    }
    if (pathname === '/__test/job') {
      const job = services.jobs.submit(String(body.kind), body.params ?? {});
      return send(res, 200, 'application/json', JSON.stringify(job));
    }
    return send(res, 404, 'text/plain', 'not found');
  }

  const server = createServer((req, res) => {
    void (async () => {
      const { pathname } = new URL(req.url ?? '/', 'http://localhost');
      if (pathname.startsWith('/__test/')) return handleTestEndpoint(req, res, pathname);
      if (req.method !== 'GET' && req.method !== 'HEAD') return send(res, 405, 'text/plain', 'method not allowed');
      if (pathname === '/' || pathname === '/index.html') return send(res, 200, TYPES['.html']!, page);
      if (pathname === CLIENT_PATH) return send(res, 200, TYPES['.js']!, clientJs);
      const file = normalize(join(rendererDir, decodeURIComponent(pathname)));
      if (!file.startsWith(rendererDir + sep)) return send(res, 403, 'text/plain', 'forbidden');
      const bytes = await readFile(file).catch(() => null);
      if (!bytes) return send(res, 404, 'text/plain', 'not found');
      return send(res, 200, TYPES[extname(file)] ?? 'application/octet-stream', bytes);
    })().catch((error: unknown) => {
      if (!res.headersSent) send(res, 500, 'text/plain', String(error));
    });
  });

  const sockets = new WebSocketServer({ noServer: true, maxPayload: 16 * 1024 * 1024 });
  server.on('upgrade', (req, socket, head) => {
    const url = new URL(req.url ?? '/', 'http://localhost');
    const allowed = url.pathname === SOCKET_PATH && sameToken(url.searchParams.get('token'), token) && req.headers.origin === origin;
    if (!allowed) {
      socket.end('HTTP/1.1 401 Unauthorized\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
      return;
    }
    sockets.handleUpgrade(req, socket, head, (ws) => serve(ws));
  });

  function serve(ws: WebSocket) {
    const unsubscribe = api.subscribe((event) => {
      if (ws.readyState === ws.OPEN) ws.send(JSON.stringify({ event }));
    });
    ws.on('close', unsubscribe);
    ws.on('message', (data) => {
      let message: { id?: unknown; method?: unknown; args?: unknown };
      try {
        message = JSON.parse(String(data)) as typeof message;
      } catch {
        return ws.close(1003, 'messages must be JSON');
      }
      void api.dispatch(String(message.method), message.args).then((result) => {
        if (ws.readyState === ws.OPEN) ws.send(JSON.stringify({ id: message.id, result }));
      });
    });
  }

  await new Promise<void>((done, fail) => {
    server.once('error', fail);
    server.listen(options.port ?? 0, '127.0.0.1', () => done());
  });
  const { port } = server.address() as AddressInfo;
  origin = `http://127.0.0.1:${port}`;

  let closing: Promise<void> | null = null;
  return {
    url: `${origin}/#token=${token}`,
    origin,
    token,
    services,
    close() {
      closing ??= (async () => {
        for (const client of sockets.clients) client.terminate();
        sockets.close();
        server.closeAllConnections();
        await new Promise<void>((done) => server.close(() => done()));
        await services.close();
      })();
      return closing;
    },
  };
}

// `node --import tsx test/host/serve.ts`: serve until interrupted, print where.
if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const port = process.env.EDGEWISE_TEST_PORT ? Number(process.env.EDGEWISE_TEST_PORT) : 0;
  const host = await startTestHost({ dataDir: defaultDataDir(), port });
  console.log(JSON.stringify({ url: host.url, token: host.token }));
  const stop = () => void host.close().then(() => process.exit(0));
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
}
