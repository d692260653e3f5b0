// The web test host's stand-in for the Electron preload: implements `EdgewiseApi` over a WebSocket as
// `window.edgewise`, so the renderer runs unchanged in plain Chromium. Injected by test/host/serve.ts as a
// classic script before the renderer's module; a no-op when a real preload already exposed the API.
(() => {
  if (window.edgewise) return;
  const token = new URLSearchParams(location.hash.slice(1)).get('token') || '';
  const scheme = location.protocol === 'https:' ? 'wss' : 'ws';
  const socket = new WebSocket(`${scheme}://${location.host}/__edgewise/ws?token=${encodeURIComponent(token)}`);
  const opened = new Promise((resolve, reject) => {
    socket.addEventListener('open', () => resolve(undefined));
    socket.addEventListener('close', () => reject(new Error('The Edgewise test host refused or closed the connection.')));
  });
  opened.catch(() => {});
  /** @type {Map<number, {resolve: (v: unknown) => void, reject: (e: Error) => void}>} */
  const pending = new Map();
  /** @type {Set<(event: unknown) => void>} */
  const listeners = new Set();
  let nextId = 1;

  socket.addEventListener('message', (message) => {
    const data = JSON.parse(String(message.data));
    if ('event' in data) {
      for (const listener of [...listeners]) {
        try {
          listener(data.event);
        } catch (error) {
          console.error('edgewise: event listener threw', error);
        }
      }
      return;
    }
    const call = pending.get(data.id);
    pending.delete(data.id);
    call?.resolve(data.result);
  });
  socket.addEventListener('close', () => {
    for (const call of pending.values()) call.reject(new Error('The connection to the Edgewise test host closed.'));
    pending.clear();
  });

  window.edgewise = Object.freeze({
    async invoke(method, args) {
      await opened;
      const id = nextId++;
      return new Promise((resolve, reject) => {
        pending.set(id, { resolve, reject });
        socket.send(JSON.stringify({ id, method, args }));
      });
    },
    onEvent(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
  });
})();
