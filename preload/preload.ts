/**
 * The sandboxed preload: exposes exactly `EdgewiseApi` as `window.edgewise`. Bundled to one CommonJS file by
 * scripts/build-preload.js (a sandboxed preload cannot load other modules). It never hands `ipcRenderer` or
 * the IPC event object to the page, and only talks on the contract's two channels.
 */
import { contextBridge, ipcRenderer } from 'electron';
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
