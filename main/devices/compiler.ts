/**
 * Bridge to Google's closed-source `edgetpu_compiler` (x86-64 Linux only): find it, read its version, compile
 * with the right `-m` (minimum runtime version), and parse its console report / `.log` into a per-op table.
 */
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, delimiter, join } from 'node:path';

/** Runtime version our driver (like libedgetpu 16) accepts; passed as `-m` so newer compilers stay compatible. */
export const DRIVER_RUNTIME_VERSION = 14;

export interface CompilerInfo {
  found: boolean;
  path?: string;
  version?: string;
  detail: string;
  fix?: string;
}

export function compilerInstallHint(platform = process.platform, arch = process.arch): string {
  if (platform === 'linux' && arch === 'x64')
    return (
      'Install Google\'s Edge TPU compiler (Debian/Ubuntu x86-64):\n' +
      '  curl https://packages.cloud.google.com/apt/doc/apt-key.gpg | sudo gpg --dearmor -o /usr/share/keyrings/coral-edgetpu.gpg\n' +
      '  echo "deb [signed-by=/usr/share/keyrings/coral-edgetpu.gpg] https://packages.cloud.google.com/apt coral-edgetpu-stable main" | sudo tee /etc/apt/sources.list.d/coral-edgetpu.list\n' +
      '  sudo apt-get update && sudo apt-get install edgetpu-compiler\n' +
      'Or set EDGETPU_COMPILER to the path of an edgetpu_compiler binary.'
    );
  return (
    `There is no Edge TPU compiler for ${platform}/${arch}: Google ships it for x86-64 Linux only. ` +
    'Compile on an x86-64 Linux machine (or a Docker container / the Coral Colab web compiler), then import the *_edgetpu.tflite file. ' +
    'Edgewise\'s own compatibility check (`edgewise inspect <model> --edgetpu`) works everywhere.'
  );
}

function run(file: string, args: string[], timeoutMs: number, cwd?: string): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(file, args, { timeout: timeoutMs, cwd, maxBuffer: 16 << 20 }, (err, stdout, stderr) => {
      const code = err ? (typeof (err as { code?: unknown }).code === 'number' ? (err as { code: number }).code : -1) : 0;
      resolve({ code, stdout: String(stdout), stderr: String(stderr) + (err && code === -1 ? err.message : '') });
    });
  });
}

function candidates(): string[] {
  const out: string[] = [];
  if (process.env.EDGETPU_COMPILER) out.push(process.env.EDGETPU_COMPILER);
  for (const dir of (process.env.PATH ?? '').split(delimiter)) if (dir) out.push(join(dir, 'edgetpu_compiler'));
  out.push('/usr/bin/edgetpu_compiler', '/usr/local/bin/edgetpu_compiler');
  return [...new Set(out)];
}

/** For `edgewise doctor` and the Devices screen. Never throws. */
export async function findEdgeTpuCompiler(): Promise<CompilerInfo> {
  const path = candidates().find((p) => existsSync(p));
  if (!path) return { found: false, detail: 'edgetpu_compiler not found (looked at $EDGETPU_COMPILER, $PATH, /usr/bin, /usr/local/bin).', fix: compilerInstallHint() };
  const r = await run(path, ['--version'], 15_000);
  const m = /Edge TPU Compiler version\s+(\S+)/.exec(r.stdout + r.stderr);
  if (!m) return { found: false, path, detail: `${path} does not answer --version like edgetpu_compiler (exit ${r.code}): ${(r.stdout + r.stderr).trim().slice(0, 200)}`, fix: compilerInstallHint() };
  return { found: true, path, version: m[1], detail: `Edge TPU Compiler ${m[1]} at ${path}` };
}

// ---- Report parsing ------------------------------------------------------------------------------------------

export interface CompilerOpRow {
  op: string;
  count: number;
  mapped: boolean;
  status: string;
}

export interface CompilerReport {
  compilerVersion?: string;
  success: boolean;
  compileTimeMs?: number;
  inputModel?: string;
  outputModel?: string;
  onChipMemoryUsedBytes?: number;
  onChipMemoryRemainingBytes?: number;
  offChipMemoryUsedBytes?: number;
  subgraphCount?: number;
  totalOps?: number;
  tpuOps?: number;
  cpuOps?: number;
  ops: CompilerOpRow[];
  /** Lines that explain a failure ("Compilation failed!", "Internal compiler error. Aborting!", …). */
  errors: string[];
}

const UNITS: Record<string, number> = { B: 1, KIB: 1024, MIB: 1024 ** 2, GIB: 1024 ** 3, KB: 1e3, MB: 1e6, GB: 1e9 };

/** "3.86MiB" / "512.00KiB" / "0.00B" → bytes. */
export function parseSize(text: string): number | undefined {
  const m = /([\d.]+)\s*([KMG]i?B|B)\b/i.exec(text);
  if (!m) return undefined;
  return Math.round(Number(m[1]) * (UNITS[m[2]!.toUpperCase()] ?? 1));
}

/** Parses the compiler's console output or its `<name>_edgetpu.log` (same header and op table). */
export function parseCompilerReport(text: string): CompilerReport {
  const r: CompilerReport = { success: false, ops: [], errors: [] };
  const lines = text.split(/\r?\n/);
  let inTable = false;
  for (const raw of lines) {
    const line = raw.trim();
    if (!line) continue;
    let m: RegExpExecArray | null;
    if ((m = /^Edge TPU Compiler version\s+(\S+)/.exec(line))) r.compilerVersion = m[1];
    else if ((m = /^Model (?:successfully )?compiled successfully in (\d+) ms/.exec(line))) { r.success = true; r.compileTimeMs = Number(m[1]); }
    else if ((m = /^Input(?: model)?:\s*(.+)$/.exec(line))) r.inputModel = m[1];
    else if ((m = /^Output(?: model)?:\s*(.+)$/.exec(line))) r.outputModel = m[1];
    else if ((m = /^On-chip memory used for caching model parameters:\s*(.+)$/.exec(line))) r.onChipMemoryUsedBytes = parseSize(m[1]!);
    else if ((m = /^On-chip memory remaining for caching model parameters:\s*(.+)$/.exec(line))) r.onChipMemoryRemainingBytes = parseSize(m[1]!);
    else if ((m = /^Off-chip memory used for streaming uncached model parameters:\s*(.+)$/.exec(line))) r.offChipMemoryUsedBytes = parseSize(m[1]!);
    else if ((m = /^Number of Edge TPU subgraphs:\s*(\d+)/.exec(line))) r.subgraphCount = Number(m[1]);
    else if ((m = /^Total number of operations:\s*(\d+)/.exec(line))) r.totalOps = Number(m[1]);
    else if ((m = /^Number of operations that will run on Edge TPU:\s*(\d+)/.exec(line))) r.tpuOps = Number(m[1]);
    else if ((m = /^Number of operations that will run on CPU:\s*(\d+)/.exec(line))) r.cpuOps = Number(m[1]);
    else if (/^Operator\s+Count\s+Status$/.test(line)) inTable = true;
    else if (/Compilation failed|Internal compiler error|^ERROR:|^Error:/i.test(line)) { r.errors.push(line); r.success = false; }
    else if (inTable && (m = /^(\S+)\s+(\d+)\s+(.+)$/.exec(line))) {
      const status = m[3]!.trim();
      r.ops.push({ op: m[1]!, count: Number(m[2]), status, mapped: /^Mapped to Edge TPU$/i.test(status) });
    }
  }
  if (r.errors.length) r.success = false;
  // A .log file has the table but not the "compiled successfully" line.
  if (!r.success && !r.errors.length && r.ops.length) r.success = true;
  if (r.tpuOps === undefined && r.ops.length) r.tpuOps = r.ops.filter((o) => o.mapped).reduce((s, o) => s + o.count, 0);
  if (r.cpuOps === undefined && r.ops.length) r.cpuOps = r.ops.filter((o) => !o.mapped).reduce((s, o) => s + o.count, 0);
  return r;
}

// ---- Compiling -------------------------------------------------------------------------------------------------

export interface CompileResult {
  compiledPath: string;
  logPath?: string;
  report: CompilerReport;
  stdout: string;
  compiler: { path: string; version: string };
}

/** Runs `edgetpu_compiler -s -m <ver> -o <outDir> <model>`; throws an Error naming the model and the compiler's message. */
export async function compileForEdgeTpu(modelPath: string, opts: { outDir?: string; timeoutSec?: number; minRuntimeVersion?: number } = {}): Promise<CompileResult> {
  const info = await findEdgeTpuCompiler();
  if (!info.found || !info.path || !info.version) throw Object.assign(new Error(`Cannot compile ${modelPath} for the Edge TPU: ${info.detail}`), { code: 'UNSUPPORTED', hint: info.fix });
  const outDir = opts.outDir ?? mkdtempSync(join(tmpdir(), 'edgewise-compile-'));
  const timeoutSec = opts.timeoutSec ?? 180;
  const args = ['-s', '-m', String(opts.minRuntimeVersion ?? DRIVER_RUNTIME_VERSION), '-t', String(timeoutSec), '-o', outDir, modelPath];
  const r = await run(info.path, args, (timeoutSec + 30) * 1000, outDir);
  const report = parseCompilerReport(r.stdout + '\n' + r.stderr);
  const stem = basename(modelPath).replace(/\.tflite$/i, '');
  const compiledPath = join(outDir, `${stem}_edgetpu.tflite`);
  if (r.code !== 0 || !existsSync(compiledPath)) {
    const why = report.errors.join(' ') || (r.stderr || r.stdout).trim().split('\n').slice(-3).join(' ');
    throw Object.assign(new Error(`edgetpu_compiler failed on ${modelPath} (exit ${r.code}): ${why}`), { code: 'BAD_MODEL' });
  }
  const logPath = readdirSync(outDir).map((f) => join(outDir, f)).find((f) => f.endsWith(`${stem}_edgetpu.log`));
  if (logPath && !report.ops.length) report.ops = parseCompilerReport(readFileSync(logPath, 'utf8')).ops;
  return { compiledPath, logPath, report, stdout: r.stdout, compiler: { path: info.path, version: info.version } };
}
