/**
 * "The renderer can read only files the user picked." A pick goes through a `FilePicker` (a native dialog in
 * Electron, a test-only queue in the web test host); the chosen path stays in the main process and the renderer
 * gets an opaque handle. Later methods take handles and call `resolve`, which refuses anything not picked —
 * and anything picked for a different purpose (a handle to save an export cannot be read as a dataset).
 */
import { randomUUID } from 'node:crypto';
import { statSync } from 'node:fs';
import { basename, extname, isAbsolute } from 'node:path';
import { ApiFailure } from './errors.ts';
import type { FilePurpose, FilesDroppedEvent, PickedFile } from '../../preload/contract.ts';

/** What can be dropped on the window: model files the importers read (a TF.js model is its model.json). */
export const DROPPABLE_MODEL_EXTENSIONS = ['.keras', '.h5', '.hdf5', '.json', '.tflite'];
const MAX_DROPPED = 16;

export interface FilePicker {
  /** Asks the user for a path; null when they cancelled. */
  pick(purpose: FilePurpose, options: { folder: boolean }): Promise<string | null>;
}

interface Entry {
  path: string;
  purpose: FilePurpose;
}

export class FileHandles {
  readonly #entries = new Map<string, Entry>();

  constructor(readonly picker: FilePicker | null) {}

  async pick(purpose: FilePurpose, folder = false): Promise<PickedFile | null> {
    if (!this.picker) {
      throw new ApiFailure('UNSUPPORTED', 'Picking files is not available here.', 'Use the desktop app or the CLI, which take paths directly.');
    }
    const path = await this.picker.pick(purpose, { folder });
    return path === null ? null : this.register(path, purpose);
  }

  /** Registers a path chosen by the user in the main process (dialog, drag-and-drop, the CLI). */
  register(path: string, purpose: FilePurpose): PickedFile {
    const handle = randomUUID();
    this.#entries.set(handle, { path, purpose });
    return { handle, name: basename(path), purpose };
  }

  /**
   * Registers model files from a drop on the window. The paths come from the preload, which takes them only from
   * trusted (user-made) drop events via webUtils.getPathForFile — the page itself cannot name a path. Still
   * checked here, as anything crossing IPC: absolute paths of existing regular files with a model extension,
   * at most 16. Always purpose 'model' (read-only use): a drop can never produce an export (write) handle.
   */
  registerDropped(paths: unknown): Omit<FilesDroppedEvent, 'type'> {
    const files: PickedFile[] = [];
    const rejected: FilesDroppedEvent['rejected'] = [];
    const list = Array.isArray(paths) ? paths.slice(0, MAX_DROPPED) : [];
    for (const path of list) {
      if (typeof path !== 'string' || !isAbsolute(path)) {
        rejected.push({ name: typeof path === 'string' ? basename(path) : '(not a file)', reason: 'not a file on this computer' });
        continue;
      }
      const name = basename(path);
      let isFile = false;
      try {
        isFile = statSync(path).isFile();
      } catch {
        // missing or unreadable: refused below
      }
      if (!isFile) rejected.push({ name, reason: 'not a readable file (folders cannot be dropped; pick image folders in the Data step)' });
      else if (!DROPPABLE_MODEL_EXTENSIONS.includes(extname(path).toLowerCase())) {
        rejected.push({ name, reason: `not a model file (Edgewise reads ${DROPPABLE_MODEL_EXTENSIONS.join(', ')})` });
      } else files.push(this.register(path, 'model'));
    }
    if (Array.isArray(paths) && paths.length > MAX_DROPPED) rejected.push({ name: `${paths.length - MAX_DROPPED} more`, reason: `at most ${MAX_DROPPED} files at once` });
    return { files, rejected };
  }

  /** The display name of a handle's file (never its path), for messages. */
  nameOf(handle: string): string {
    const entry = this.#entries.get(handle);
    return entry ? basename(entry.path) : 'the file';
  }

  /** The real path behind a handle; FORBIDDEN when the renderer did not pick it (for this purpose). */
  resolve(handle: string, purpose: FilePurpose): string {
    const entry = this.#entries.get(handle);
    if (!entry) {
      throw new ApiFailure('FORBIDDEN', `Unknown file handle "${handle}": only files picked in this session can be used.`, 'Pick the file again.');
    }
    if (entry.purpose !== purpose) {
      throw new ApiFailure('FORBIDDEN', `File handle "${handle}" was picked as a ${entry.purpose}, not as a ${purpose}.`, `Pick the file again as a ${purpose}.`);
    }
    return entry.path;
  }
}
