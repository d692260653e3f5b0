/**
 * Natural-photo sets for the MobileNetV2 PTQ benchmark (reference data-and-models.md §4): photos from Debian
 * packages (python3-skimage, python-matplotlib-data, opencv-doc, darknet) plus the shared Coral photos, split
 * into disjoint calibration and evaluation photos. Each photo also yields a few deterministic random square crops
 * (written as PNG), so both sets hold ~100+ distinct images. Everything lives OUTSIDE the repo in
 * ~/.cache/edgewise-test-data (override with EDGEWISE_TEST_DATA); the .debs are fetched with apt once.
 * Usage: `preparePhotoSets()` → { calib, eval } folder paths.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, renameSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { PNG } from 'pngjs';
import { decodeImageFile } from '../../main/data/index.ts';

const ROOT = process.env.EDGEWISE_TEST_DATA ?? join(homedir(), '.cache', 'edgewise-test-data');
const SHARED = fileURLToPath(new URL('../../../shared/fixtures/coral/', import.meta.url));
const PACKAGES = ['python3-skimage', 'python-matplotlib-data', 'opencv-doc', 'darknet'];

const SKIMAGE = 'python3-skimage/usr/lib/python3/dist-packages/skimage/data/';
const OPENCV = 'opencv-doc/usr/share/doc/opencv-doc/examples/data/';
/** Colour photographs only (no charts, chessboards, microscopy, logos or paintings). */
const PHOTOS = [
  ...['astronaut.png', 'chelsea.png', 'coffee.png', 'rocket.jpg', 'motorcycle_left.png', 'motorcycle_right.png'].map((f) => SKIMAGE + f),
  'python-matplotlib-data/usr/share/matplotlib/mpl-data/sample_data/grace_hopper.jpg',
  ...['apple', 'baboon', 'butterfly', 'fruits', 'orange', 'messi5', 'squirrel_cls', 'home', 'building', 'aero1', 'aero3',
    'board', 'leuvenA', 'leuvenB', 'ela_original', 'licenseplate_motion', 'aloeL', 'stuff'].map((f) => `${OPENCV}${f}.jpg`),
  ...['chicky_512', 'smarties', 'basketball1', 'rubberwhale1'].map((f) => `${OPENCV}${f}.png`),
  ...['dog', 'eagle', 'giraffe', 'horses', 'kite', 'person'].map((f) => `darknet/usr/share/darknet/data/${f}.jpg`),
];
const CORAL = ['bird.bmp', 'cat.bmp', 'sunflower.bmp', 'parrot.jpg', 'grace_hopper.bmp'];

function ensureDebs(): string {
  const ex = join(ROOT, 'ex');
  const missing = PACKAGES.filter((p) => !existsSync(join(ex, p)));
  if (!missing.length) return ex;
  const debs = join(ROOT, 'debs');
  mkdirSync(debs, { recursive: true });
  execFileSync('apt-get', ['download', ...missing], { cwd: debs, stdio: 'inherit' });
  for (const f of readdirSync(debs).filter((n) => n.endsWith('.deb'))) {
    const name = f.slice(0, f.indexOf('_'));
    if (!missing.includes(name)) continue;
    mkdirSync(join(ex, name), { recursive: true });
    execFileSync('dpkg-deb', ['-x', join(debs, f), join(ex, name)]);
  }
  return ex;
}

function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => ((s = (s * 1664525 + 1013904223) >>> 0) / 2 ** 32);
}

async function writeVariants(file: string, out: string, base: string, crops: number, rand: () => number): Promise<void> {
  const img = await decodeImageFile(file);
  const { width: w, height: h, channels: c } = img;
  const save = (x0: number, y0: number, size: number, name: string) => {
    const png = new PNG({ width: size, height: size });
    for (let y = 0; y < size; y++) {
      for (let x = 0; x < size; x++) {
        const si = ((y0 + y) * w + x0 + x) * c;
        const di = (y * size + x) * 4;
        png.data[di] = img.data[si]!;
        png.data[di + 1] = img.data[si + (c >= 3 ? 1 : 0)]!;
        png.data[di + 2] = img.data[si + (c >= 3 ? 2 : 0)]!;
        png.data[di + 3] = 255;
      }
    }
    writeFileSync(join(out, name), PNG.sync.write(png));
  };
  const side = Math.min(w, h);
  save(Math.floor((w - side) / 2), Math.floor((h - side) / 2), side, `${base}.png`);
  for (let k = 0; k < crops; k++) {
    const size = Math.floor(side * (0.45 + 0.4 * rand()));
    save(Math.floor(rand() * (w - size)), Math.floor(rand() * (h - size)), size, `${base}_crop${k}.png`);
  }
}

/** Builds (once) and returns the calibration and evaluation folders. */
export async function preparePhotoSets(crops = 4): Promise<{ calib: string; eval: string; photos: number }> {
  const dir = join(ROOT, `ptq-photos-v1-c${crops}`);
  const result = { calib: join(dir, 'calib'), eval: join(dir, 'eval'), photos: PHOTOS.length + CORAL.length };
  if (existsSync(dir)) return result;
  const ex = ensureDebs();
  const all = [...PHOTOS.map((p) => join(ex, p)), ...CORAL.map((f) => join(SHARED, f))].filter((p) => existsSync(p));
  const tmp = `${dir}.tmp-${process.pid}`;
  mkdirSync(join(tmp, 'calib'), { recursive: true });
  mkdirSync(join(tmp, 'eval'), { recursive: true });
  const rand = rng(42);
  for (let i = 0; i < all.length; i++) {
    const base = `${String(i).padStart(2, '0')}_${all[i]!.split('/').pop()!.replace(/\.\w+$/, '')}`;
    await writeVariants(all[i]!, join(tmp, i % 2 === 0 ? 'calib' : 'eval'), base, crops, rand);
  }
  renameSync(tmp, dir);
  return result;
}
