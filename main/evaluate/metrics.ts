/**
 * Classification metrics over model outputs (N × C, row-major): top-1 / top-5 accuracy, confusion matrix, and
 * agreement between two models (top-1 agreement, mean |Δ softmax| per output value).
 */

export interface AccuracyReport {
  samples: number;
  classes: number;
  top1: number;
  /** Only when the model has more than 5 classes. */
  top5?: number;
  /** confusion[true][predicted] counts. */
  confusion: number[][];
  /** Per-class recall (correct / samples of that class; null when the class has no samples). */
  perClass: (number | null)[];
}

export interface AgreementReport {
  samples: number;
  /** Fraction of samples where both models pick the same top-1 class. */
  top1Agreement: number;
  /** Mean over all samples and classes of |p − q|. */
  meanAbsDelta: number;
  /** Largest |p − q| seen. */
  maxAbsDelta: number;
}

export function argmax(row: ArrayLike<number>, start = 0, width = row.length): number {
  let best = start;
  for (let i = start + 1; i < start + width; i++) if (row[i] > row[best]) best = i;
  return best - start;
}

function rankOf(outputs: Float32Array, base: number, width: number, label: number): number {
  const v = outputs[base + label];
  let rank = 0;
  for (let k = 0; k < width; k++) if (outputs[base + k] > v) rank++;
  return rank;
}

export function accuracy(outputs: Float32Array, width: number, labels: Int32Array): AccuracyReport {
  const n = outputs.length / width;
  if (!Number.isInteger(n)) throw new Error(`Outputs of ${outputs.length} values are not a multiple of ${width} classes`);
  if (labels.length < n) throw new Error(`${n} predictions but only ${labels.length} labels`);
  const confusion = Array.from({ length: width }, () => new Array<number>(width).fill(0));
  let top1 = 0;
  let top5 = 0;
  for (let i = 0; i < n; i++) {
    const label = labels[i]!;
    if (!(label >= 0 && label < width)) throw new Error(`Label ${label} of sample ${i} is outside the model's ${width} classes`);
    const pred = argmax(outputs, i * width, width);
    confusion[label]![pred]!++;
    if (pred === label) top1++;
    if (width > 5 && rankOf(outputs, i * width, width, label) < 5) top5++;
  }
  const perClass = confusion.map((row, c) => {
    const s = row.reduce((a, b) => a + b, 0);
    return s ? row[c]! / s : null;
  });
  return { samples: n, classes: width, top1: top1 / n, ...(width > 5 ? { top5: top5 / n } : {}), confusion, perClass };
}

export function agreement(a: Float32Array, b: Float32Array, width: number): AgreementReport {
  if (a.length !== b.length) throw new Error(`Cannot compare outputs: ${a.length} vs ${b.length} values`);
  const n = a.length / width;
  let same = 0;
  let sum = 0;
  let max = 0;
  for (let i = 0; i < n; i++) {
    if (argmax(a, i * width, width) === argmax(b, i * width, width)) same++;
    for (let k = i * width; k < (i + 1) * width; k++) {
      const d = Math.abs(a[k]! - b[k]!);
      sum += d;
      if (d > max) max = d;
    }
  }
  return { samples: n, top1Agreement: same / n, meanAbsDelta: sum / a.length, maxAbsDelta: max };
}
