/** `edgewise inspect <model> [--edgetpu] [--json]`: format, I/O, parameters, op histogram, quantization, sizes. */
import { readFileSync, statSync } from 'node:fs';
import { basename, resolve } from 'node:path';
import { CliError, type CliCommand } from '../command.ts';
import { formatInspection, inspectGraph, inspectTflite, type ModelInspection } from '../../tflite/inspect.ts';
import { loadModel } from '../../model/load.ts';
import { optimizeForExport } from '../../model/passes.ts';
import { readTflite } from '../../tflite/reader.ts';
import { graphToTflite } from '../../tflite/from-ir.ts';
import type { TfliteModel } from '../../tflite/model.ts';
import { formatCompatReport, predictEdgeTpu, type CompatReport } from '../../devices/compat.ts';

type InspectResult = ModelInspection & { edgetpu?: CompatReport };

function isTflite(bytes: Uint8Array): boolean {
  return bytes.length >= 8 && String.fromCharCode(...bytes.subarray(4, 8)) === 'TFL3';
}

export const inspect: CliCommand = {
  usage: 'edgewise inspect <model> [--edgetpu] [--json]',
  options: { edgetpu: { type: 'boolean' } },
  async run(positionals, options): Promise<InspectResult> {
    const [path] = positionals;
    if (!path || positionals.length > 1) throw new CliError('INVALID_ARGUMENT', 'expected exactly one model path', this.usage);
    const file = resolve(path);
    let isFile = false;
    try {
      isFile = statSync(file).isFile();
    } catch {
      throw new CliError('NOT_FOUND', `Model file not found: ${file}`);
    }
    let inspection: ModelInspection;
    let tflite: () => TfliteModel;
    const bytes = isFile ? new Uint8Array(readFileSync(file)) : undefined;
    if (bytes && isTflite(bytes)) {
      inspection = inspectTflite(bytes, basename(file));
      tflite = () => readTflite(bytes, basename(file));
    } else {
      const loaded = await loadModel(file).catch((e: unknown) => {
        throw new CliError('BAD_MODEL', e instanceof Error ? e.message : String(e));
      });
      inspection = inspectGraph(loaded.graph, loaded.format, new Uint8Array(readFileSync(loaded.sourceFile)), basename(loaded.sourceFile));
      // The Edge TPU prediction reads the model as it would be exported.
      tflite = () => graphToTflite(optimizeForExport(loaded.graph));
    }
    return options.edgetpu ? { ...inspection, edgetpu: predictEdgeTpu(tflite()) } : inspection;
  },
  format: (r: InspectResult) => [formatInspection(r), ...(r.edgetpu ? ['', 'Edge TPU (predicted):', formatCompatReport(r.edgetpu)] : [])].join('\n'),
};
