/**
 * Saving things the user asked for: a save dialog (an 'export' file handle), then the main process writes the
 * file. Failures are already shown as toasts by `call`; these resolve quietly then.
 */
import { call } from './api.ts';
import { formatSize } from './format.ts';
import { toasts } from './toasts.svelte.ts';
import type { ResultsGoal } from '../../preload/contract.ts';

async function pickExportFile(): Promise<string | null> {
  const file = await call('files.pick', { purpose: 'export' }, 'Could not open the save dialog');
  return file?.handle ?? null;
}

/** A variant's .tflite, copied to a file the user picks. */
export async function exportVariantFile(id: string): Promise<void> {
  try {
    const handle = await pickExportFile();
    if (!handle) return;
    const r = await call('history.exportArtifact', { id, handle }, 'Could not export the model');
    toasts.info(`Saved ${r.name} (${formatSize(r.bytes)}).`);
  } catch {
    // toast shown
  }
}

/** The HTML or Markdown report of a model's variants. */
export async function exportModelReport(modelId: string, format: 'html' | 'markdown', goal: ResultsGoal): Promise<void> {
  try {
    const handle = await pickExportFile();
    if (!handle) return;
    const r = await call('reports.export', { modelId, format, handle, goal }, 'Could not write the report');
    toasts.info(`Saved the report ${r.name}.`);
  } catch {
    // toast shown
  }
}
