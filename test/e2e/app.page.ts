// Page object for the app shell, shared by the e2e specs.
import { test as base, expect } from '@playwright/test';
import type { Page } from '@playwright/test';
import { mkdirSync } from 'node:fs';
import type { EdgewiseApi } from '../../preload/contract.ts';

export const SCREENSHOTS = 'test-results/screenshots';

/** What page.evaluate callbacks see on the page's global (tests type-check without the DOM lib). */
export type PageGlobals = typeof globalThis & { edgewise?: EdgewiseApi; crossOriginIsolated: boolean };

export const SCREENS = ['Optimize', 'History', 'Devices', 'Settings'] as const;
export type ScreenName = (typeof SCREENS)[number];

export function hostUrl(): string {
  const url = process.env.EDGEWISE_E2E_URL;
  if (!url) throw new Error('EDGEWISE_E2E_URL is not set: run through playwright.config.ts (global setup starts the host).');
  return url;
}

/** POSTs to a test-only endpoint of the web test host. */
export async function hostPost(path: string, body: unknown): Promise<void> {
  const origin = new URL(hostUrl()).origin;
  const res = await fetch(`${origin}${path}`, {
    method: 'POST',
    headers: { 'x-edgewise-token': process.env.EDGEWISE_E2E_TOKEN ?? '' },
    body: JSON.stringify(body),
  });
  if (!res.ok) throw new Error(`${path}: ${res.status} ${await res.text()}`);
}

export class AppShell {
  /** Console errors, page errors and CSP violations seen so far — a healthy app has none. */
  readonly problems: string[] = [];

  constructor(readonly page: Page) {
    page.on('console', (message) => {
      if (message.type() === 'error') this.problems.push(`console: ${message.text()}`);
    });
    page.on('pageerror', (error) => this.problems.push(`pageerror: ${error.message}`));
  }

  async open(): Promise<void> {
    // The URL differs only in its fragment on a second open, which would not reload: reload explicitly.
    if (this.page.url() === hostUrl()) await this.page.reload();
    else await this.page.goto(hostUrl());
    await expect(this.nav).toBeVisible();
  }

  get nav() {
    return this.page.getByRole('navigation', { name: 'Main' });
  }

  navButton(name: ScreenName) {
    return this.nav.getByRole('button', { name });
  }

  heading(name: ScreenName) {
    return this.page.getByRole('heading', { level: 1, name });
  }

  async goto(name: ScreenName): Promise<void> {
    await this.navButton(name).click();
    await expect(this.heading(name)).toBeVisible();
    await expect(this.navButton(name)).toHaveAttribute('aria-current', 'page');
  }

  get jobsButton() {
    return this.page.getByRole('button', { name: /^Jobs:/ });
  }
}

/** Full-page screenshots at the test's viewport (1280×800) in light and dark: `<name>-light.png`, `<name>-dark.png`. */
export async function shoot(page: Page, name: string): Promise<void> {
  mkdirSync(SCREENSHOTS, { recursive: true });
  for (const colorScheme of ['light', 'dark'] as const) {
    await page.emulateMedia({ colorScheme });
    await page.screenshot({ path: `${SCREENSHOTS}/${name}-${colorScheme}.png`, fullPage: true });
  }
  await page.emulateMedia({ colorScheme: 'light' });
}

/** Info toasts fade after a few seconds; a screenshot should not catch one half-way over the content. */
export async function dismissToasts(page: Page): Promise<void> {
  const buttons = page.getByRole('button', { name: 'Dismiss notification' });
  while ((await buttons.count()) > 0) await buttons.first().click({ timeout: 1000 }).catch(() => {});
}

/**
 * Playwright's `test` with an `app` fixture: the app shell opened on the test's page; after the test, the page
 * must have logged no console errors, page errors or CSP violations.
 */
export const test = base.extend<{ app: AppShell }>({
  app: async ({ page }, use) => {
    const app = new AppShell(page);
    await app.open();
    await use(app);
    expect(app.problems, 'no console errors, page errors or CSP violations').toEqual([]);
  },
});
export { expect };
