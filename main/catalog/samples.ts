/**
 * The embedded first-run samples: the trained MNIST CNN and a labelled 300-image MNIST dataset. `samples.list`
 * hands them out as pre-picked file handles, the same way as files the user picked, so the wizard needs no
 * special path for them. Only samples whose files exist are listed.
 */
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { appRoot } from '../paths.ts';
import type { FileHandles } from '../api/files.ts';
import type { SampleItem } from '../../preload/contract.ts';

const ROOT = appRoot();

interface SampleDef {
  id: string;
  name: string;
  description: string;
  kind: SampleItem['kind'];
  /** Relative to the app root. */
  path: string;
  details: (path: string) => SampleItem['details'];
}

const countImages = (dir: string) =>
  readdirSync(dir, { withFileTypes: true })
    .filter((d) => d.isDirectory())
    .reduce((n, d) => n + readdirSync(join(dir, d.name)).filter((f) => f.endsWith('.png')).length, 0);

export const SAMPLES: SampleDef[] = [
  {
    id: 'mnist-cnn',
    name: 'MNIST digit classifier (CNN)',
    description: 'A small trained Keras-style CNN (TF.js layers model) that reads 28×28 handwritten digits: quick to optimize, good for a first run.',
    kind: 'model',
    // One committed copy: the training fixture (scripts/train-mnist.ts) is the sample.
    path: 'test/fixtures/models/mnist-cnn/model.json',
    details: () => ({ format: 'TF.js layers', input: '28×28×1', classes: 10 }),
  },
  {
    id: 'mnist-sample',
    name: 'MNIST test images (300, labelled)',
    description: '30 images of each digit from the MNIST test set, in one folder per class: calibration and accuracy data for the sample model.',
    kind: 'dataset',
    path: 'samples/mnist-sample',
    details: (path) => ({ format: 'image folder (PNG)', images: countImages(path), classes: 10 }),
  },
];

export function samplePath(id: string, root = ROOT): string {
  const s = SAMPLES.find((x) => x.id === id);
  if (!s) throw Object.assign(new Error(`No sample "${id}"`), { code: 'NOT_FOUND' });
  return join(root, s.path);
}

/** The samples present in this installation, each registered as a handle for its purpose. */
export function listSamples(files: FileHandles, root = ROOT): SampleItem[] {
  return SAMPLES.filter((s) => existsSync(join(root, s.path))).map((s) => {
    const path = join(root, s.path);
    return { id: s.id, name: s.name, description: s.description, kind: s.kind, file: files.register(path, s.kind), details: s.details(path) };
  });
}
