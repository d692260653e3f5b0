/**
 * Electron hardening in one place (electron docs "Security" checklist): no navigation, no new windows, no
 * webviews, every permission denied, the CSP as a response header too, and the sender check every IPC
 * handler runs.
 */
import { app, session } from 'electron';
import type { IpcMainInvokeEvent, WebContents } from 'electron';
import { CONTENT_SECURITY_POLICY } from './csp.ts';

export function hardenSessionAndContents(): void {
  const ses = session.defaultSession;
  ses.setPermissionRequestHandler((_contents, _permission, callback) => callback(false));
  ses.setPermissionCheckHandler(() => false);
  ses.webRequest.onHeadersReceived((details, callback) => {
    callback({ responseHeaders: { ...details.responseHeaders, 'Content-Security-Policy': [CONTENT_SECURITY_POLICY] } });
  });
  app.on('web-contents-created', (_event, contents: WebContents) => {
    contents.on('will-navigate', (event) => event.preventDefault());
    contents.on('will-redirect', (event) => event.preventDefault());
    contents.on('will-attach-webview', (event) => event.preventDefault());
    contents.setWindowOpenHandler(() => ({ action: 'deny' }));
  });
}

/** True when an IPC message comes from our own page (same file URL, any hash or query), not some other frame. */
export function isOwnPage(event: IpcMainInvokeEvent, pageUrl: string): boolean {
  const frameUrl = event.senderFrame?.url;
  if (!frameUrl) return false;
  try {
    const sender = new URL(frameUrl);
    const own = new URL(pageUrl);
    return sender.protocol === own.protocol && sender.host === own.host && sender.pathname === own.pathname;
  } catch {
    return false;
  }
}
