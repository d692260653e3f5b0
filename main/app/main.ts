/**
 * The Electron shell: one hardened window over the renderer, the services running in this (main) process,
 * IPC wired to the API layer. Deliberately thin — everything testable lives in main/api and the services,
 * which the web test host and the CLI run without Electron.
 */
import { app, BrowserWindow, ipcMain, Notification, screen } from 'electron';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { join } from 'node:path';
import { dataDir } from '../paths.ts';
import { createApi } from '../api/index.ts';
import { createServices } from '../api/services.ts';
import { CHANNELS } from '../../preload/contract.ts';
import type { ApiEvent } from '../../preload/contract.ts';
import { jobEndNotice } from './job-notice.ts';
import { dialogPicker } from './picker.ts';
import { hardenSessionAndContents, isOwnPage } from './security.ts';
import { loadWindowState, saveWindowState } from './window-state.ts';

// dist-main/main/app/main.js → the app root, which holds dist-renderer/ and dist-main/preload/.
const appRoot = fileURLToPath(new URL('../../../', import.meta.url));
const PRELOAD = join(appRoot, 'dist-main', 'preload', 'preload.cjs');
const INDEX_HTML = join(appRoot, 'dist-renderer', 'index.html');
const PAGE_URL = pathToFileURL(INDEX_HTML).href;

const home = dataDir();
// Chromium's own profile (cache, local storage) goes inside our data folder, so EDGEWISE_HOME isolates a test run.
app.setPath('userData', join(home, 'electron'));

if (!app.requestSingleInstanceLock()) {
  app.quit();
} else {
  let mainWindow: BrowserWindow | null = null;

  app.on('second-instance', () => {
    if (!mainWindow) return;
    if (mainWindow.isMinimized()) mainWindow.restore();
    mainWindow.focus();
  });

  const createWindow = (): BrowserWindow => {
    const state = loadWindowState(home, screen.getAllDisplays().map((d) => d.workArea));
    const window = new BrowserWindow({
      ...state,
      minWidth: 800,
      minHeight: 560,
      show: false,
      title: 'Edgewise',
      webPreferences: {
        preload: PRELOAD,
        contextIsolation: true,
        sandbox: true,
        nodeIntegration: false,
        nodeIntegrationInWorker: false,
        webSecurity: true,
        allowRunningInsecureContent: false,
        spellcheck: false,
      },
    });
    if (state.maximized) window.maximize();
    window.once('ready-to-show', () => window.show());
    const remember = () => {
      if (window.isDestroyed()) return;
      saveWindowState(home, { ...window.getNormalBounds(), maximized: window.isMaximized() });
    };
    window.on('close', remember);
    void window.loadFile(INDEX_HTML);
    return window;
  };

  void app.whenReady().then(() => {
    hardenSessionAndContents();
    const services = createServices({ dataDir: home, picker: dialogPicker(() => mainWindow) });
    const api = createApi(services);

    ipcMain.handle(CHANNELS.invoke, async (event, method: unknown, args: unknown) => {
      if (!isOwnPage(event, PAGE_URL)) {
        return { ok: false, error: { code: 'FORBIDDEN', message: 'IPC from a page that is not Edgewise was refused.' } };
      }
      return api.dispatch(String(method), args);
    });
    // Drag-and-drop: the preload sends paths it read from a trusted drop (webUtils.getPathForFile); the page
    // cannot reach this channel (contextIsolation + sandbox; the bridge exposes only invoke/onEvent). The
    // handles go back as an event to that window only.
    ipcMain.handle(CHANNELS.drop, (event, paths: unknown) => {
      if (!isOwnPage(event, PAGE_URL)) return;
      const dropped: ApiEvent = { type: 'files-dropped', ...services.files.registerDropped(paths) };
      event.sender.send(CHANNELS.event, dropped);
    });
    api.subscribe((event) => {
      for (const window of BrowserWindow.getAllWindows()) {
        if (!window.isDestroyed()) window.webContents.send(CHANNELS.event, event);
      }
    });
    // A desktop notification when a job ends while Edgewise is not in front (in front, the in-app toast tells).
    // Shown by the main process: the renderer's notification permission stays denied (security.ts).
    const noticed = new Set<string>();
    services.jobs.subscribe(({ job }) => {
      const notice = jobEndNotice(job);
      if (!notice || noticed.has(job.id) || !Notification.isSupported()) return;
      noticed.add(job.id);
      if (BrowserWindow.getFocusedWindow()) return;
      const notification = new Notification({ title: notice.title, body: notice.body, silent: false });
      notification.on('click', () => {
        if (!mainWindow) return;
        if (mainWindow.isMinimized()) mainWindow.restore();
        mainWindow.focus();
      });
      notification.show();
    });

    mainWindow = createWindow();
    mainWindow.on('closed', () => (mainWindow = null));
    app.on('activate', () => {
      if (!mainWindow) mainWindow = createWindow();
    });

    let closing = false;
    app.on('will-quit', (event) => {
      if (closing) return;
      // Give running jobs their cooperative cancel and the database its clean close before exiting.
      closing = true;
      event.preventDefault();
      void services.close().finally(() => app.quit());
    });
  });

  app.on('window-all-closed', () => {
    if (process.platform !== 'darwin') app.quit();
  });
}
