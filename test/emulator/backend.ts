/**
 * Test-only: attaches emulated Coral sticks to the real CLI and app (see docs/coral.md).
 *
 *   EDGEWISE_EMULATED_CORAL="super,high:app"     two sticks: 1-1 (USB 3, boot ROM) and 1-2 (USB 2, firmware loaded)
 *   EDGEWISE_EMULATED_CORAL_MODELS="x_edgetpu.tflite=x.tflite;y_edgetpu.tflite"
 *       compiled models the sticks can execute; with "=twin" the outputs come from the CPU twin in the TFLite
 *       runtime, otherwise they are zeros.
 */
import { readFileSync } from 'node:fs';
import { basename } from 'node:path';
import { EmulatedCoralStick, EmulatorBackend } from './coral-stick.ts';
import { twinCompute } from './compute.ts';

export async function backendFromEnv(spec: string, modelsSpec = process.env.EDGEWISE_EMULATED_CORAL_MODELS ?? ''): Promise<EmulatorBackend> {
  const items = /^\d+$/.test(spec.trim()) ? Array.from({ length: Number(spec) }, () => 'super') : spec.split(',').map((s) => s.trim()).filter(Boolean);
  const backend = new EmulatorBackend();
  items.forEach((item, i) => {
    const [speed, state] = item.split(':');
    if (speed !== 'super' && speed !== 'high') throw new Error(`EDGEWISE_EMULATED_CORAL: "${item}" — each stick is super|high[:dfu|app]`);
    backend.add(new EmulatedCoralStick({ busNumber: 1, ports: [i + 1], speed, state: state === 'app' ? 'app' : 'dfu' }));
  });
  for (const entry of modelsSpec.split(';').map((s) => s.trim()).filter(Boolean)) {
    const [compiledPath, twinPath] = entry.split('=');
    const compiled = new Uint8Array(readFileSync(compiledPath!));
    const compute = twinPath ? await twinCompute(new Uint8Array(readFileSync(twinPath))) : undefined;
    for (const s of backend.sticks) s.addModel({ compiled, fileName: basename(compiledPath!), ...(compute ? { compute } : {}) });
  }
  return backend;
}
