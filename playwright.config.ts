// Playwright: the renderer in Debian's Chromium against the web test host (real services on a fresh temp
// EDGEWISE_HOME, started in global setup), plus an Electron launch test that runs only when an Electron binary
// exists. Browsers are never downloaded: Chromium comes from apt (/usr/bin/chromium).
import { defineConfig } from '@playwright/test';

const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

export default defineConfig({
  testDir: 'test/e2e',
  testMatch: '*.spec.ts',
  outputDir: 'test-results/playwright',
  globalSetup: './test/e2e/global-setup.ts',
  // One worker: the suite shares one host and one history; the machine has 2 cores shared with other work.
  workers: 1,
  fullyParallel: false,
  forbidOnly: !!process.env.CI,
  retries: process.env.CI ? 1 : 0,
  timeout: 30_000,
  expect: { timeout: 5_000 },
  reporter: [['list']],
  use: {
    viewport: { width: 1280, height: 800 },
    trace: 'on-first-retry',
    screenshot: 'only-on-failure',
    contextOptions: { reducedMotion: 'reduce' },
    launchOptions: { executablePath: process.env.EDGEWISE_CHROMIUM ?? '/usr/bin/chromium', args: CHROMIUM_ARGS },
  },
});
