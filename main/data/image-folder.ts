/**
 * Image-folder datasets: one subfolder per class (sorted names → labels 0..K−1, like Keras
 * image_dataset_from_directory), or a flat folder of images (unlabelled). Images are decoded lazily per batch.
 */
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { SampleSource } from './dataset.ts';
import { decodeImageFile, isImageFile, IMAGE_EXTENSIONS } from './image.ts';
import type { RawSample } from './preprocess.ts';

export function imageFolderSource(folder: string): SampleSource {
  let entries: string[];
  try {
    entries = readdirSync(folder).filter((n) => !n.startsWith('.')).sort();
  } catch (e) {
    throw new Error(`Cannot read dataset folder "${folder}": ${(e as Error).message}`);
  }
  const dirs = entries.filter((n) => statSync(join(folder, n)).isDirectory());
  const looseImages = entries.filter((n) => !dirs.includes(n) && isImageFile(n));
  const files: string[] = [];
  const warnings: string[] = [];
  let labels: Int32Array | undefined;
  let classNames: string[] | undefined;
  if (dirs.length > 0) {
    classNames = dirs;
    const labelList: number[] = [];
    dirs.forEach((d, label) => {
      const imgs = readdirSync(join(folder, d)).filter(isImageFile).sort();
      if (imgs.length === 0) warnings.push(`Class folder "${d}" in "${folder}" has no images`);
      for (const f of imgs) {
        files.push(join(folder, d, f));
        labelList.push(label);
      }
    });
    labels = Int32Array.from(labelList);
    if (looseImages.length > 0) {
      warnings.push(`${looseImages.length} image(s) directly in "${folder}" were ignored: with class subfolders, only images inside them are used`);
    }
  } else {
    files.push(...looseImages.map((f) => join(folder, f)));
  }
  if (files.length === 0) {
    throw new Error(`Dataset folder "${folder}" contains no images (${IMAGE_EXTENSIONS.join(', ')}), neither directly nor in class subfolders`);
  }
  return {
    kind: 'image-folder',
    location: folder,
    count: files.length,
    labels,
    classNames,
    warnings,
    describe: (i) => `Image "${files[i]}"`,
    async read(i): Promise<RawSample> {
      const img = await decodeImageFile(files[i]);
      return { kind: 'image', height: img.height, width: img.width, channels: 3, data: img.data };
    },
  };
}
