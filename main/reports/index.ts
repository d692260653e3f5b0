/** Report export (HTML, Markdown) and copying a variant's model file out (docs/results.md). */
import { copyFileSync, renameSync, statSync } from 'node:fs';
import { HistoryError, type History } from '../history/index.ts';

export { buildReport, exportReport, jsonBlocks } from './report.ts';
export { renderHtml, renderMarkdown, escapeHtml, escapeMarkdown, type Block, type ReportDocument } from './document.ts';

/** Copies a variant's model file to `path` (temp file + rename, so a failed copy leaves nothing half-written). */
export function exportArtifact(history: History, variantId: string, path: string): { bytes: number } {
  const v = history.getVariant(variantId);
  if (!v.artifact) throw new HistoryError('NOT_FOUND', `Variant "${v.name}" (${v.id}) has no model file to export`);
  const tmp = `${path}.${process.pid}.tmp`;
  copyFileSync(v.artifact.path, tmp);
  renameSync(tmp, path);
  return { bytes: statSync(path).size };
}
