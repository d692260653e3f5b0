import { gzipSync } from 'node:zlib';

/** The size users see after zipping a model for download: gzip level 9. One definition for the whole app. */
export function gzippedSize(bytes: Uint8Array): number {
  return gzipSync(bytes, { level: 9 }).length;
}
