/**
 * "The renderer can read only files the user picked." A pick goes through a `FilePicker` (a native dialog in
 * Electron, a test-only queue in the web test host); the chosen path stays in the main process and the renderer
 * gets an opaque handle. Later methods take handles and call `resolve`, which refuses anything not picked —
 * and anything picked for a different purpose (a handle to save an export cannot be read as a dataset).
 */
import { randomUUID } from 'node:crypto';
import { basename } from 'node:path';
import { ApiFailure } from './errors.ts';
import type { FilePurpose, PickedFile } from '../../preload/contract.ts';

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
