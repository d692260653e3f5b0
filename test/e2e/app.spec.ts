// The renderer in Chromium against the real services through the web test host (fresh, empty data folder).
import { mkdirSync } from 'node:fs';
import { SCREENS, hostPost, test, expect } from './app.page.ts';
import type { PageGlobals } from './app.page.ts';

const SCREENSHOTS = 'test-results/screenshots';

test.describe('app shell', () => {
  test('loads with the Optimize screen, the navigation and the jobs indicator', async ({ page, app }) => {
    await expect(app.heading('Optimize')).toBeVisible();
    await expect(app.heading('Optimize')).toBeFocused();
    await expect(page).toHaveTitle('Optimize — Edgewise');
    for (const name of SCREENS) await expect(app.navButton(name)).toBeVisible();
    await expect(app.jobsButton).toHaveAccessibleName('Jobs: No running jobs');
    // The page runs under the app's CSP, cross-origin isolated.
    expect(await page.evaluate(() => (globalThis as PageGlobals).crossOriginIsolated)).toBe(true);
  });

  test('navigates between the four screens by mouse and keyboard', async ({ page, app }) => {
    for (const name of SCREENS) await app.goto(name);
    await page.keyboard.press('Control+2');
    await expect(app.heading('History')).toBeVisible();
    await page.keyboard.press('Control+1');
    await expect(app.heading('Optimize')).toBeVisible();
    // Tab reaches the navigation and Enter activates it.
    await app.navButton('Devices').focus();
    await page.keyboard.press('Enter');
    await expect(app.heading('Devices')).toBeVisible();
    // The host runs with one emulated Coral stick (global setup).
    await expect(page.getByTestId('device-row')).toHaveCount(1);
  });

  test('the empty history shows its empty state', async ({ page, app }) => {
    await app.goto('History');
    await expect(page.getByTestId('empty-state')).toContainText('No models yet — optimize one from the Optimize tab');
  });

  test('Settings shows the real doctor report: every check with its detail, and a fix where one failed', async ({ page, app }) => {
    await app.goto('Settings');
    const checks = page.getByTestId('doctor-check');
    await expect(checks.first()).toBeVisible({ timeout: 20_000 });
    const history = checks.filter({ hasText: 'History database' });
    await expect(history).toHaveAttribute('data-ok', 'true');
    // The data folder shown is the test's fresh EDGEWISE_HOME.
    await expect(page.locator('dl')).toContainText(process.env.EDGEWISE_E2E_HOME!);
    for (const failing of await checks.and(page.locator('[data-ok="false"]')).all()) {
      await expect(failing).toContainText('Fix:');
    }
    await page.getByText('Report as text').click();
    await expect(page.locator('pre')).toContainText('[ok] History database');
  });

  test('picking a model shows its name, never its path', async ({ page, app }) => {
    await hostPost('/__test/pick', { path: '/somewhere/private/mnist_cnn.keras' });
    await page.getByRole('button', { name: 'Choose a model file…' }).click();
    await expect(page.getByTestId('picked-model')).toHaveText('mnist_cnn.keras');
    await expect(page.locator('body')).not.toContainText('/somewhere/private');
  });

  test('API errors surface as toasts with the message and the hint', async ({ page, app }) => {
    await hostPost('/__test/pick', { fail: { message: 'The file dialog could not open.', hint: 'Restart Edgewise and try again.' } });
    await page.getByRole('button', { name: 'Choose a model file…' }).click();
    const toast = page.getByTestId('toast');
    await expect(toast).toContainText('Could not open the file picker');
    await expect(toast).toContainText('The file dialog could not open.');
    await expect(toast).toContainText('Restart Edgewise and try again.');
    await toast.getByRole('button', { name: 'Dismiss notification' }).click();
    await expect(toast).toBeHidden();
  });
});

test('screenshots of each screen in light and dark', async ({ page, app }) => {
  mkdirSync(SCREENSHOTS, { recursive: true });
  for (const colorScheme of ['light', 'dark'] as const) {
    await page.emulateMedia({ colorScheme });
    await app.open();
    for (const name of SCREENS) {
      await app.goto(name);
      if (name === 'Settings') await expect(page.getByTestId('doctor-checks').or(page.getByText('The checks could not run'))).toBeVisible();
      await page.screenshot({ path: `${SCREENSHOTS}/${name.toLowerCase()}-${colorScheme}.png` });
    }
  }
});

test('a job started through the API shows live in the jobs indicator and can be cancelled there', async ({ page, app }) => {
  await hostPost('/__test/job', { kind: 'test.count', params: { steps: 200, stepMs: 100 } });
  await expect(app.jobsButton).toHaveAccessibleName('Jobs: 1 job running');
  await app.jobsButton.click();
  const row = page.getByTestId('job-row').first();
  await expect(row).toContainText('test.count');
  await expect(row).toContainText(/Step \d+ of 200/);
  await page.screenshot({ path: `${SCREENSHOTS}/jobs-popover-light.png` });
  await row.getByRole('button', { name: 'Cancel test.count' }).click();
  await expect(row).toContainText('Cancelled');
  await expect(app.jobsButton).toHaveAccessibleName('Jobs: No running jobs');
  // Escape closes the popover and returns focus to its button.
  await page.keyboard.press('Escape');
  await expect(page.getByRole('dialog', { name: 'Jobs' })).toBeHidden();
  await expect(app.jobsButton).toBeFocused();
});

// Runs last: it writes to the shared history that the empty-state test expects empty.
test('History lists the models and variants in the real history', async ({ page, app }) => {
  const { openHistory } = await import('../../main/history/index.ts');
  const history = openHistory(process.env.EDGEWISE_E2E_HOME!);
  try {
    const model = history.addModel({ name: 'mnist_cnn', format: 'keras', path: '/models/mnist_cnn.keras', sha256: 'cd'.repeat(32), parameterCount: 93_322 });
    history.addVariant({
      modelId: model.id,
      name: 'int8 PTQ',
      recipe: { technique: 'ptq-int8' },
      status: 'ready',
      artifact: { source: new Uint8Array(40_000).fill(7), kind: 'tflite' },
      metrics: [{ name: 'accuracy', value: 0.9871 }],
    });
  } finally {
    history.close();
  }
  await app.open(); // again, now that the history has data
  await app.goto('History');
  await page.getByRole('button', { name: 'mnist_cnn' }).click();
  const variants = page.getByRole('region', { name: 'Variants of mnist_cnn' });
  await expect(variants).toContainText('int8 PTQ');
  await expect(variants).toContainText('39 KB');
  await expect(variants).toContainText('accuracy 0.9871');
  for (const colorScheme of ['light', 'dark'] as const) {
    await page.emulateMedia({ colorScheme });
    await page.screenshot({ path: `${SCREENSHOTS}/history-with-data-${colorScheme}.png` });
  }
});
