/**
 * The sandboxed preload: exposes exactly `EdgewiseApi` as `window.edgewise`. Bundled to one CommonJS file by
 * scripts/build-preload.js (a sandboxed preload cannot load other modules). It never hands `ipcRenderer` or
 * the IPC event object to the page, and only talks on the contract's two channels.
 */
import { contextBridge, ipcRenderer, webUtils } from 'electron';
import { CHANNELS } from './contract.ts';
import type { ApiEvent, EdgewiseApi } from './contract.ts';

const api: EdgewiseApi = {
  invoke: (method, args) => ipcRenderer.invoke(CHANNELS.invoke, method, args),
  onEvent(listener) {
    const forward = (_event: unknown, payload: ApiEvent) => {
      // A throwing page listener must not surface as a preload error.
      try {
        listener(payload);
      } catch (error) {
        console.error('edgewise: event listener threw', error);
      }
    };
    ipcRenderer.on(CHANNELS.event, forward);
    return () => {
      ipcRenderer.removeListener(CHANNELS.event, forward);
    };
  },
};

contextBridge.exposeInMainWorld('edgewise', api);

// Drag-and-drop of model files. Only here (the isolated world) can a dropped File become a path
// (webUtils.getPathForFile); the page never sees paths and cannot call the drop channel. Synthetic events the page
// dispatches are ignored (isTrusted), and a File the page constructs has no path. The main process validates the
// paths again and answers with handles in a 'files-dropped' event. Cancelling dragover allows the drop; cancelling
// the drop stops Chromium from navigating to the file.
// The main tsconfig has no DOM lib (it checks Node code); these are the few DOM shapes used here.
interface DragEventLike {
  isTrusted: boolean;
  preventDefault(): void;
  dataTransfer: { types: readonly string[]; files: ArrayLike<Parameters<typeof webUtils.getPathForFile>[0]> } | null;
}
const page = globalThis as unknown as { addEventListener(type: 'dragover' | 'drop', listener: (event: DragEventLike) => void): void };
page.addEventListener('dragover', (event) => {
  if (event.dataTransfer?.types.includes('Files')) event.preventDefault();
});
page.addEventListener('drop', (event) => {
  if (!event.isTrusted || !event.dataTransfer?.files.length) return;
  event.preventDefault();
  const paths = Array.from(event.dataTransfer.files, (file) => webUtils.getPathForFile(file)).filter((path) => path !== '');
  if (paths.length) void ipcRenderer.invoke(CHANNELS.drop, paths);
});
