/** `edgewise inspect <model> [--json]`: format, I/O, parameters, op histogram, quantization, sizes. */
import { readFileSync, statSync } from 'node:fs';
import { basename, resolve } from 'node:path';
import { CliError, type CliCommand } from '../command.ts';
import { formatInspection, inspectGraph, inspectTflite, type ModelInspection } from '../../tflite/inspect.ts';
import { loadModel } from '../../model/load.ts';

export const inspect: CliCommand = {
  name: 'inspect',
  summary: 'Show a model\'s inputs, outputs, ops, parameters, quantization and size',
  usage: 'edgewise inspect <model> [--json]',
  async run(positionals): Promise<ModelInspection> {
    const [path] = positionals;
    if (!path || positionals.length > 1) throw new CliError('INVALID_ARGUMENT', 'expected exactly one model path', 'edgewise inspect <model> [--json]');
    const file = resolve(path);
    let isFile = false;
    try {
      isFile = statSync(file).isFile();
    } catch {
      throw new CliError('NOT_FOUND', `Model file not found: ${file}`);
    }
    if (isFile) {
      const bytes = new Uint8Array(readFileSync(file));
      if (bytes.length >= 8 && String.fromCharCode(...bytes.subarray(4, 8)) === 'TFL3') return inspectTflite(bytes, basename(file));
    }
    const loaded = await loadModel(file).catch((e: unknown) => {
      throw new CliError('BAD_MODEL', e instanceof Error ? e.message : String(e));
    });
    return inspectGraph(loaded.graph, loaded.format, new Uint8Array(readFileSync(loaded.sourceFile)), basename(loaded.sourceFile));
  },
  format: formatInspection,
};
