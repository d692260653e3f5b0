#!/usr/bin/env node
// `npm start` runs the app in Electron, whose Node ABI differs from the system Node's. better-sqlite3 is not
// Node-API, so the copy `npm ci` built (for Node: tests and the CLI use it) cannot load in Electron. This script
// makes a second copy for Electron once, in .electron-native/, without touching node_modules (so `npm test` keeps
// working): it downloads better-sqlite3's prebuilt Electron binary, or compiles it against Electron's headers.
// main/history/db.ts loads that copy when running inside Electron. Needs internet the first time.
// (usb and koffi are Node-API and load in Electron as they are.)
import { execFileSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';

const require = createRequire(import.meta.url);
const root = new URL('..', import.meta.url).pathname;
const electronVersion = require('electron/package.json').version;
const sqlitePkg = dirname(require.resolve('better-sqlite3/package.json'));
const sqliteVersion = require('better-sqlite3/package.json').version;
const outDir = join(root, '.electron-native');
const stamp = join(outDir, 'stamp.json');
const want = { electron: electronVersion, betterSqlite3: sqliteVersion, platform: process.platform, arch: process.arch };

if (existsSync(stamp) && JSON.stringify(JSON.parse(readFileSync(stamp, 'utf8'))) === JSON.stringify(want)) process.exit(0);

const work = mkdtempSync(join(tmpdir(), 'edgewise-electron-native-'));
const pkg = join(work, 'better-sqlite3');
cpSync(sqlitePkg, pkg, { recursive: true, filter: (src) => !src.includes(`${sqlitePkg}/build`) });
const bin = (name) => join(root, 'node_modules', '.bin', name);
const run = (cmd, args) => execFileSync(cmd, args, { cwd: pkg, stdio: 'inherit', env: { ...process.env, npm_config_nodedir: '' } });
console.log(`Preparing better-sqlite3 ${sqliteVersion} for Electron ${electronVersion} (once)…`);
try {
  run(bin('prebuild-install'), ['--runtime', 'electron', '--target', electronVersion, '--arch', process.arch, '--platform', process.platform]);
} catch {
  console.log('No prebuilt binary; compiling against Electron\'s headers…');
  try {
    run(bin('node-gyp'), ['rebuild', '--release', `--target=${electronVersion}`, `--arch=${process.arch}`, '--dist-url=https://electronjs.org/headers']);
  } catch {
    rmSync(work, { recursive: true, force: true });
    console.error(`\nCould not prepare better-sqlite3 for Electron ${electronVersion}: this needs internet once (a prebuilt binary from GitHub, or Electron's headers to compile against). The CLI (npx edgewise) works without it.`);
    process.exit(1);
  }
}
mkdirSync(outDir, { recursive: true });
cpSync(join(pkg, 'build', 'Release', 'better_sqlite3.node'), join(outDir, 'better_sqlite3.node'));
writeFileSync(stamp, JSON.stringify(want));
rmSync(work, { recursive: true, force: true });
console.log(`better-sqlite3 for Electron → ${join(outDir, 'better_sqlite3.node')}`);
