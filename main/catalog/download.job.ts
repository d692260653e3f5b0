/**
 * Job kind 'catalog-download' (runs in a worker): downloads a catalog model into `<dataDir>/catalog/<id>/`
 * and records it in the history as a model with one variant holding the file, so it can be inspected,
 * compared and deployed like any variant. Cancelling keeps the `.part` file; resuming the job continues it.
 */
import { join } from 'node:path';
import { openHistory } from '../history/index.ts';
import type { JobContext } from '../jobs/types.ts';
import type { CatalogModel } from '../../preload/contract.ts';
import { downloadCatalogModel } from './download.ts';

export interface CatalogDownloadParams {
  /** The entry as it was in the catalog when the job was submitted (the renderer only names an id). */
  entry: CatalogModel;
}

export interface CatalogDownloadResult {
  modelId: string;
  variantId: string;
  variantIds: string[];
  path: string;
  sha256: string;
  sizeBytes: number;
  verified: boolean;
  resumedFromBytes: number;
}

export function catalogDownloadDir(dataDir: string, id: string): string {
  return join(dataDir, 'catalog', id);
}

export async function run(params: CatalogDownloadParams, ctx: JobContext): Promise<CatalogDownloadResult> {
  const { entry } = params;
  ctx.progress({ stage: 'download', fraction: 0, message: `Downloading ${entry.name}` });
  const r = await downloadCatalogModel(entry, catalogDownloadDir(ctx.dataDir, entry.id), {
    signal: ctx.signal,
    onProgress: ({ receivedBytes, totalBytes }) =>
      ctx.progress({
        stage: 'download',
        ...(totalBytes ? { fraction: Math.min(1, receivedBytes / totalBytes) } : {}),
        message: `${(receivedBytes / 1e6).toFixed(1)}${totalBytes ? ` of ${(totalBytes / 1e6).toFixed(1)}` : ''} MB`,
      }),
  });
  ctx.log(`${r.path}: ${r.sizeBytes} bytes, sha256 ${r.sha256} (${r.verified ? 'verified' : 'unverified: the catalog has no checksum'})`);
  ctx.progress({ stage: 'record', fraction: 1, message: 'Adding to the history' });
  const history = openHistory(ctx.dataDir);
  try {
    const model =
      history.findModelBySha256(r.sha256) ??
      history.addModel({ name: entry.name, format: entry.target === 'edgetpu' ? 'edgetpu-tflite' : 'tflite', path: r.path, sha256: r.sha256 });
    const existing = history.variantsOfModel(model.id).find((v) => v.artifact?.sha256 === r.sha256);
    const variant =
      existing ??
      history.addVariant({
        modelId: model.id,
        name: entry.name,
        recipe: { technique: 'catalog', catalogId: entry.id, url: entry.url, verified: r.verified },
        artifact: { source: r.path, kind: entry.target === 'edgetpu' ? 'edgetpu-tflite' : 'tflite' },
      });
    return { modelId: model.id, variantId: variant.id, variantIds: [variant.id], path: r.path, sha256: r.sha256, sizeBytes: r.sizeBytes, verified: r.verified, resumedFromBytes: r.resumedFromBytes };
  } finally {
    history.close();
  }
}
