/**
 * Image decoding with maintained pure-JS libraries: jpeg-js (baseline/progressive JPEG), pngjs (all PNG colour
 * types, converted to RGBA by the library), bmp-ts (1/4/8-bit palettized incl. RLE, 16/24/32-bit BMP).
 * Always returns 8-bit RGB (alpha dropped, not composited) plus whether the image is grayscale (R = G = B).
 */
import { readFile } from 'node:fs/promises';
import jpeg from 'jpeg-js';
import { PNG } from 'pngjs';
import * as bmp from 'bmp-ts';

export const IMAGE_EXTENSIONS = ['.jpg', '.jpeg', '.png', '.bmp'];

export interface DecodedImage {
  width: number;
  height: number;
  channels: 3;
  /** RGB, HWC, row-major. */
  data: Uint8Array;
  grayscale: boolean;
}

export function isImageFile(name: string): boolean {
  const lower = name.toLowerCase();
  return !name.startsWith('.') && IMAGE_EXTENSIONS.some((e) => lower.endsWith(e));
}

export async function decodeImageFile(path: string): Promise<DecodedImage> {
  let bytes: Buffer;
  try {
    bytes = await readFile(path);
  } catch (e) {
    throw new Error(`Cannot read image "${path}": ${(e as Error).message}`);
  }
  return decodeImage(bytes, path);
}

/** Decodes by content (magic bytes), not by extension. `name` is used in errors. */
export function decodeImage(bytes: Uint8Array, name: string): DecodedImage {
  const buf = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let rgba: { width: number; height: number; data: Uint8Array };
  // bmp-ts writes pixels as A,B,G,R (its toRGBA flag is ignored for 8-bit palettized images, so we never set it).
  let order: [number, number, number] = [0, 1, 2];
  try {
    if (buf[0] === 0xff && buf[1] === 0xd8) {
      rgba = jpeg.decode(buf, { useTArray: true, formatAsRGBA: true, maxMemoryUsageInMB: 1024 });
    } else if (buf.subarray(0, 8).equals(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]))) {
      rgba = PNG.sync.read(buf);
    } else if (buf[0] === 0x42 && buf[1] === 0x4d) {
      rgba = bmp.decode(buf);
      order = [3, 2, 1];
    } else {
      throw new Error('not a JPEG, PNG or BMP file');
    }
  } catch (e) {
    throw new Error(`Cannot decode image "${name}": ${(e as Error).message}`);
  }
  const { width, height } = rgba;
  if (!(width > 0 && height > 0) || rgba.data.length < width * height * 4) {
    throw new Error(`Cannot decode image "${name}": decoder returned ${width}×${height} with ${rgba.data.length} bytes`);
  }
  const data = new Uint8Array(width * height * 3);
  let grayscale = true;
  const [r, g, b] = order;
  for (let i = 0, j = 0; j < data.length; i += 4, j += 3) {
    data[j] = rgba.data[i + r];
    data[j + 1] = rgba.data[i + g];
    data[j + 2] = rgba.data[i + b];
    if (grayscale && (data[j] !== data[j + 1] || data[j] !== data[j + 2])) grayscale = false;
  }
  return { width, height, channels: 3, data, grayscale };
}
