/**
 * CSV datasets: numeric feature columns plus an optional label column. `.csv.gz` is gunzipped with fflate.
 * Delimiter (',' ';' tab) and header are detected: a first row with more non-numeric cells than the second is a header.
 * Label column: the one named by the caller, else a header column called label/labels/class/target/y, else the
 * last column; 'none' for unlabelled data. Non-numeric labels become class names (sorted) → indices.
 */
import { readFileSync } from 'node:fs';
import { gunzipSync } from 'fflate';
import type { SampleSource } from './dataset.ts';

export interface CsvOptions {
  /** Column name or 0-based index, 'last', or 'none'. */
  labelColumn?: string | number;
  limit?: number;
}

const LABEL_NAMES = ['label', 'labels', 'class', 'target', 'y'];

function splitRow(line: string, delim: string): string[] {
  if (!line.includes('"')) return line.split(delim).map((s) => s.trim());
  const cells: string[] = [];
  let cur = '';
  let quoted = false;
  for (let i = 0; i < line.length; i++) {
    const ch = line[i];
    if (quoted) {
      if (ch === '"' && line[i + 1] === '"') (cur += '"'), i++;
      else if (ch === '"') quoted = false;
      else cur += ch;
    } else if (ch === '"') quoted = true;
    else if (ch === delim) (cells.push(cur.trim()), (cur = ''));
    else cur += ch;
  }
  cells.push(cur.trim());
  return cells;
}

const isNumber = (s: string) => s !== '' && Number.isFinite(Number(s)) || /^[+-]?(nan|inf(inity)?)$/i.test(s);

export function csvSource(path: string, options: CsvOptions = {}): SampleSource {
  let bytes: Uint8Array;
  try {
    bytes = readFileSync(path);
  } catch (e) {
    throw new Error(`Cannot read CSV "${path}": ${(e as Error).message}`);
  }
  if (bytes[0] === 0x1f && bytes[1] === 0x8b) bytes = gunzipSync(bytes);
  const lines = new TextDecoder().decode(bytes).split(/\r?\n/).filter((l) => l.trim() !== '');
  if (lines.length === 0) throw new Error(`CSV "${path}" is empty`);
  const delim = [',', ';', '\t'].map((d) => [d, lines[0].split(d).length] as const).sort((a, b) => b[1] - a[1])[0][0];
  const first = splitRow(lines[0], delim);
  // A header has more non-numeric cells than the next row (string label columns are non-numeric in both).
  const nonNumeric = (cells: string[]) => cells.filter((c) => !isNumber(c)).length;
  const header = nonNumeric(first) > (lines.length > 1 ? nonNumeric(splitRow(lines[1], delim)) : 0) ? first : undefined;
  const rows = (header ? lines.slice(1) : lines).slice(0, options.limit);
  const width = first.length;

  let labelIdx: number | undefined;
  const lc = options.labelColumn;
  if (lc === 'none') labelIdx = undefined;
  else if (typeof lc === 'number') labelIdx = lc;
  else if (lc === undefined || lc === 'last') {
    const named = lc === undefined && header ? header.findIndex((h) => LABEL_NAMES.includes(h.toLowerCase())) : -1;
    labelIdx = named >= 0 ? named : width - 1;
  } else {
    labelIdx = header?.indexOf(lc);
    if (labelIdx === undefined || labelIdx < 0) {
      throw new Error(`CSV "${path}" has no column named "${lc}"${header ? `; columns: ${header.join(', ')}` : ' (it has no header row)'}`);
    }
  }
  if (labelIdx !== undefined && (labelIdx < 0 || labelIdx >= width)) throw new Error(`CSV "${path}": label column ${labelIdx} is outside the ${width} columns`);
  if (labelIdx !== undefined && width < 2) throw new Error(`CSV "${path}" has a single column; with a label column there are no features (use labelColumn 'none')`);

  const features = labelIdx === undefined ? width : width - 1;
  const data = new Float32Array(rows.length * features);
  const rawLabels: string[] = [];
  const lineOffset = header ? 2 : 1;
  rows.forEach((line, r) => {
    const cells = splitRow(line, delim);
    if (cells.length !== width) throw new Error(`CSV "${path}" line ${r + lineOffset}: ${cells.length} columns, expected ${width}`);
    let f = 0;
    cells.forEach((cell, c) => {
      if (c === labelIdx) return void rawLabels.push(cell);
      if (!isNumber(cell)) {
        throw new Error(`CSV "${path}" line ${r + lineOffset}, column ${header ? `"${header[c]}"` : c + 1}: "${cell}" is not a number`);
      }
      data[r * features + f++] = Number(cell);
    });
  });

  let labels: Int32Array | undefined;
  let classNames: string[] | undefined;
  if (labelIdx !== undefined) {
    if (rawLabels.every((l) => Number.isInteger(Number(l)) && l !== '')) {
      labels = Int32Array.from(rawLabels, Number);
    } else {
      classNames = [...new Set(rawLabels)].sort();
      const index = new Map(classNames.map((n, i) => [n, i]));
      labels = Int32Array.from(rawLabels, (l) => index.get(l)!);
    }
  }
  return {
    kind: 'csv',
    location: path,
    count: rows.length,
    labels,
    classNames,
    describe: (i) => `CSV "${path}" row ${i + 1}`,
    read: (i) => ({ kind: 'vector', data: data.subarray(i * features, (i + 1) * features) }),
  };
}
