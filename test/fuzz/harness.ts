/**
 * A small seeded mutation fuzzer shared by every model reader. A reader plugs in as a `FuzzTarget`: seed files,
 * a parse function, and the error types it is allowed to throw. Each case is reproducible from the printed
 * `seed` (run with EDGEWISE_FUZZ_SEED=<base seed> to replay a whole run).
 */
import { mulberry32 } from '../helpers/random.ts';



export interface FuzzTarget {
  name: string;
  /** Valid files to mutate. */
  seeds: { name: string; bytes: Uint8Array }[];
  /** Parses the bytes (and whatever follows, e.g. conversion to IR). */
  parse(bytes: Uint8Array, fileName: string): unknown;
  /** The documented error types; anything else thrown is a bug. */
  allowed(error: unknown): boolean;
}

export interface FuzzOptions {
  cases: number;
  baseSeed: number;
  /** A single parse slower than this counts as a hang. */
  perCaseMs: number;
}

export interface FuzzFailure {
  seed: number;
  file: string;
  mutation: string;
  problem: string;
}


const SPECIAL = [0x00, 0xff, 0x7f, 0x80, 0x01, 0xfe];

/** One seeded mutation of `src`: bit flips, byte sets, 32-bit word sets, truncation or splice. */
export function mutate(src: Uint8Array, rand: () => number, other: Uint8Array): { bytes: Uint8Array; mutation: string } {
  const pick = (n: number) => Math.floor(rand() * n);
  const kind = pick(6);
  const bytes = src.slice();
  const n = bytes.length;
  switch (kind) {
    case 0: {
      const flips = 1 + pick(8);
      const at: number[] = [];
      for (let i = 0; i < flips; i++) {
        const p = pick(n);
        bytes[p]! ^= 1 << pick(8);
        at.push(p);
      }
      return { bytes, mutation: `bit flips at ${at.join(',')}` };
    }
    case 1: {
      const p = pick(n);
      const v = rand() < 0.5 ? SPECIAL[pick(SPECIAL.length)]! : pick(256);
      bytes[p] = v;
      return { bytes, mutation: `byte ${p} = ${v}` };
    }
    case 2: {
      // Offsets, lengths and vtable entries are 32/16-bit words at aligned positions near the file's start
      // (tables, vtables) and end; hitting them exercises the bounds checks.
      const p = Math.max(0, Math.min(n - 4, (rand() < 0.7 ? pick(Math.min(n, 4096)) : pick(n)) & ~3));
      const values = [0, 0xffffffff, 0x7fffffff, 0x80000000, n, n - 4, pick(n), pick(65536)];
      const v = values[pick(values.length)]!;
      new DataView(bytes.buffer).setUint32(p, v >>> 0, true);
      return { bytes, mutation: `u32 at ${p} = ${v >>> 0}` };
    }
    case 3: {
      const len = pick(n);
      return { bytes: bytes.slice(0, len), mutation: `truncate to ${len}` };
    }
    case 4: {
      const from = pick(other.length), to = pick(n), len = 1 + pick(Math.min(256, other.length - from));
      bytes.set(other.subarray(from, from + Math.min(len, n - to)), to);
      return { bytes, mutation: `splice ${len} B from other@${from} to ${to}` };
    }
    default: {
      const p = pick(Math.min(n, 2048));
      const v = pick(65536);
      if (p + 2 <= n) new DataView(bytes.buffer).setUint16(p & ~1, v, true);
      return { bytes, mutation: `u16 at ${p & ~1} = ${v}` };
    }
  }
}

/** The mutated file for one seeded case: which seed file, the mutation, the bytes. */
export function caseInput(seeds: FuzzTarget['seeds'], seed: number): { file: FuzzTarget['seeds'][number]; bytes: Uint8Array; mutation: string } {
  const rand = mulberry32(seed);
  const file = seeds[Math.floor(rand() * seeds.length)]!;
  const other = seeds[Math.floor(rand() * seeds.length)]!;
  return { file, ...mutate(file.bytes, rand, other.bytes) };
}

/** Runs `cases` mutations; returns failures (unexpected error types or slow cases) and a tally of outcomes. */
export function runFuzz(target: FuzzTarget, opts: FuzzOptions): { failures: FuzzFailure[]; parsed: number; rejected: number; slowestMs: number } {
  const failures: FuzzFailure[] = [];
  let parsed = 0, rejected = 0, slowestMs = 0;
  for (let i = 0; i < opts.cases; i++) {
    const seed = (opts.baseSeed + i) >>> 0;
    const { file, bytes, mutation } = caseInput(target.seeds, seed);
    const t0 = performance.now();
    try {
      target.parse(bytes, file.name);
      parsed++;
    } catch (e) {
      if (target.allowed(e)) rejected++;
      else failures.push({ seed, file: file.name, mutation, problem: e instanceof Error ? `${e.name}: ${e.message}\n${e.stack}` : String(e) });
    }
    const ms = performance.now() - t0;
    slowestMs = Math.max(slowestMs, ms);
    if (ms > opts.perCaseMs) failures.push({ seed, file: file.name, mutation, problem: `took ${ms.toFixed(0)} ms` });
  }
  return { failures, parsed, rejected, slowestMs };
}
