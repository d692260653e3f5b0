// Playwright for UI benchmarks (npm run bench:ui): the same Chromium, test host and global setup as the e2e suite,
// but the specs in test/bench/ui-*.bench.ts, which seed large histories and PRINT timings. Not in the default run.
import { defineConfig } from '@playwright/test';
import base from './playwright.config.ts';

export default defineConfig({
  ...base,
  testDir: 'test/bench',
  testMatch: 'ui-*.bench.ts',
  outputDir: 'test-results/playwright-bench',
  retries: 0,
  timeout: 300_000,
});
