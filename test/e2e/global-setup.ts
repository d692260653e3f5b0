// Starts the web test host (`node --import tsx test/host/serve.ts`) on a fresh temporary EDGEWISE_HOME, in its
// own process like a real backend, and hands its URL and token to the tests through the environment.
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
export const CORAL = fileURLToPath(new URL('../../../shared/fixtures/coral/', import.meta.url));

export default async function globalSetup(): Promise<() => Promise<void>> {
  const home = mkdtempSync(join(tmpdir(), 'edgewise-e2e-'));
  const child = spawn(process.execPath, ['--import', 'tsx', 'test/host/serve.ts'], {
    cwd: ROOT,
    // One emulated Coral stick (USB 3, boot ROM) that runs the shared compiled MobileNet fixture (test-only, docs/coral.md).
    env: { ...process.env, EDGEWISE_HOME: home, EDGEWISE_TEST: '1', EDGEWISE_EMULATED_CORAL: 'super', EDGEWISE_EMULATED_CORAL_MODELS: `${CORAL}mobilenet_v1_0.25_128_quant_edgetpu.tflite=${CORAL}mobilenet_v1_0.25_128_quant.tflite` },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const started = await new Promise<{ url: string; token: string }>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('The web test host did not start within 30 s.')), 30_000);
    child.once('exit', (code) => reject(new Error(`The web test host exited with code ${code} before starting (is dist-renderer built? run npm run build:renderer).`)));
    createInterface({ input: child.stdout }).once('line', (line) => {
      clearTimeout(timer);
      resolve(JSON.parse(line) as { url: string; token: string });
    });
  });
  process.env.EDGEWISE_E2E_URL = started.url;
  process.env.EDGEWISE_E2E_TOKEN = started.token;
  process.env.EDGEWISE_E2E_HOME = home;
  return async () => {
    if (child.exitCode === null) {
      child.kill('SIGTERM');
      await new Promise((resolve) => child.once('exit', resolve));
    }
    rmSync(home, { recursive: true, force: true });
  };
}
