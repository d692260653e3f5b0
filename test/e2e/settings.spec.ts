// The Settings screen against the real settings service: the form loads the stored values, unavailable backends
// cannot be chosen, the thread count is shown as fixed (with why), a save lands in <dataDir>/settings.json and
// survives a reload, and the data folder is shown with how to change it.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { dismissToasts, shoot, test, expect } from './app.page.ts';

test('Settings: preferences saved to settings.json, backend availability, fixed threads, data folder', async ({ page, app }) => {
  await app.goto('Settings');
  const form = page.getByTestId('settings-form');
  const backend = form.getByLabel('Compute backend');
  await expect(backend).toHaveValue('auto');
  // tfjs-node cannot install offline here: the doctor says so and the option cannot be picked.
  await expect(page.getByTestId('doctor-checks')).toBeVisible();
  await expect(backend.locator('option', { hasText: 'TensorFlow native' })).toBeDisabled();
  await expect(form.getByLabel('Threads')).toBeDisabled();
  await expect(form).toContainText('single-threaded in Node');
  await expect(page.getByTestId('data-folder')).toHaveText(process.env.EDGEWISE_E2E_HOME!);
  await expect(form).toContainText('EDGEWISE_HOME');
  await expect(form.getByRole('button', { name: 'Save' })).toBeDisabled();

  await backend.selectOption('cpu');
  await form.getByLabel('Default calibration').selectOption('mse');
  await form.getByLabel('Accuracy budget').fill('0.5');
  await form.getByRole('button', { name: 'Save' }).click();
  await expect(page.getByTestId('toast')).toContainText('Settings saved');
  const stored = JSON.parse(readFileSync(join(process.env.EDGEWISE_E2E_HOME!, 'settings.json'), 'utf8'));
  expect(stored).toMatchObject({ computeBackend: 'cpu', defaultCalibrationMethod: 'mse', maxAccuracyDropPoints: 0.5 });

  await app.open();
  await app.goto('Settings');
  await expect(form.getByLabel('Compute backend')).toHaveValue('cpu');
  await expect(form.getByLabel('Default calibration')).toHaveValue('mse');
  await dismissToasts(page);
  await shoot(page, 'settings');

  // Back to the defaults: the other specs share this data folder.
  await form.getByLabel('Compute backend').selectOption('auto');
  await form.getByLabel('Default calibration').selectOption('percentile');
  await form.getByLabel('Accuracy budget').fill('1');
  await form.getByRole('button', { name: 'Save' }).click();
  await expect(form.getByRole('button', { name: 'Save' })).toBeDisabled();
  expect(JSON.parse(readFileSync(join(process.env.EDGEWISE_E2E_HOME!, 'settings.json'), 'utf8'))).toMatchObject({ computeBackend: 'auto', defaultCalibrationMethod: 'percentile' });
});
