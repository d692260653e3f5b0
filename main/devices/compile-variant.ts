/**
 * Compiling a model for the Edge TPU and keeping the result: one place for the CLI (`edgewise compile`) and the
 * app (`devices.compile`). A compiled variant is a child of the variant it came from, with recipe technique
 * 'edgetpu-compile', the compiler's report and our own prediction stored beside it.
 */
import { readFileSync } from 'node:fs';
import type { History } from '../history/index.ts';
import { readTflite } from '../tflite/reader.ts';
import { predictEdgeTpu } from './compat.ts';
import { compileForEdgeTpu, type CompilerReport } from './compiler.ts';

export const EDGETPU_COMPILE_TECHNIQUE = 'edgetpu-compile';

export interface CompileOutcome {
  input: string;
  compiledPath: string;
  compiler: { path: string; version: string };
  report: CompilerReport;
  /** Our own prediction, for comparison with what the compiler did. */
  predicted: { mapped: number; cpu: number };
  variantId?: string;
}

/** Compiles a .tflite file (output next to it or in outDir). Errors carry API codes: UNSUPPORTED (no compiler, with the install hint) or BAD_MODEL. */
export async function compileModelFile(input: string, outDir?: string, progress?: (message: string) => void): Promise<CompileOutcome> {
  const predicted = predictEdgeTpu(readTflite(new Uint8Array(readFileSync(input)), input));
  progress?.(`Compiling ${input} (predicted: ${predicted.mappedCount} of ${predicted.ops.length} ops on the Edge TPU)…`);
  const r = await compileForEdgeTpu(input, outDir ? { outDir } : {});
  return { input, compiledPath: r.compiledPath, compiler: r.compiler, report: r.report, predicted: { mapped: predicted.mappedCount, cpu: predicted.cpuCount } };
}

/** Compiles a variant's model file and stores the compiled file as its child variant. */
export async function compileVariant(history: History, variantId: string, progress?: (message: string) => void): Promise<CompileOutcome> {
  const variant = history.getVariant(variantId);
  if (!variant.artifact) throw Object.assign(new Error(`Variant "${variant.name}" has no model file to compile`), { code: 'NOT_FOUND' });
  const out = await compileModelFile(variant.artifact.path, undefined, progress);
  const child = history.addVariant({
    modelId: variant.modelId,
    parentId: variant.id,
    name: `${variant.name} · Edge TPU`,
    recipe: { technique: EDGETPU_COMPILE_TECHNIQUE, compiler: out.compiler.version },
    status: 'ready',
    artifact: { source: out.compiledPath, kind: 'edgetpu-tflite' },
    reports: { 'edgetpu-compiler': out.report, 'edgetpu-compat': out.predicted },
  });
  return { ...out, variantId: child.id };
}
