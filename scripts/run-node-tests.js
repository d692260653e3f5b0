#!/usr/bin/env node
// Runs every main-process test (test/**/*.test.ts outside test/e2e) on plain Node with node:test + tsx.
// Node 20 silently runs zero tests when handed a directory or an unexpanded glob, so we list the files
// ourselves and fail when nothing ran. Usage: node scripts/run-node-tests.js [substring filters…]
import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync, mkdtempSync } from 'node:fs';
import { join, relative } from 'node:path';
import { tmpdir } from 'node:os';

const root = new URL('..', import.meta.url).pathname;
const filters = process.argv.slice(2);

function findTests(dir) {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return entry.name === 'e2e' ? [] : findTests(path);
    return entry.name.endsWith('.test.ts') ? [path] : [];
  });
}

const files = findTests(join(root, 'test'))
  .map((f) => relative(root, f))
  .filter((f) => filters.length === 0 || filters.some((s) => f.includes(s)))
  .sort();
if (files.length === 0) {
  console.error(`No test files matched ${filters.length ? filters.join(', ') : 'test/**/*.test.ts'}`);
  process.exit(1);
}

const tap = join(mkdtempSync(join(tmpdir(), 'edgewise-tests-')), 'results.tap');
const run = spawnSync(
  process.execPath,
  ['--import', 'tsx', '--test', '--test-reporter=spec', '--test-reporter-destination=stdout',
    '--test-reporter=tap', `--test-reporter-destination=${tap}`, ...files],
  { cwd: root, stdio: 'inherit', env: { ...process.env, EDGEWISE_TEST: '1' } },
);
const summary = readFileSync(tap, 'utf8');
const count = (key) => Number((summary.match(new RegExp(`^# ${key} (\\d+)$`, "m")) ?? [])[1] ?? 0);
const [tests, passed, failed] = [count('tests'), count('pass'), count('fail')];
if (tests === 0) {
  console.error('node:test ran zero tests: failing the run.');
  process.exit(1);
}
console.log(`node: ${passed} passed, ${failed} failed`);
process.exit(run.status ?? 1);
