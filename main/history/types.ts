/**
 * Input and record types of the history store that are not (yet) part of the API contract. Everything here is
 * JSON-friendly (no Dates, no typed arrays in records) so the API layer can return it as is.
 */
import type { ErrorCode, JobState, JobSummary, VariantSummary } from '../../preload/contract.ts';

/** An error the API layer can map to a code; the message names the file or id involved. */
export class HistoryError extends Error {
  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly hint?: string,
  ) {
    super(message);
    this.name = 'HistoryError';
  }
}

export interface NewModel {
  name: string;
  /** 'keras' | 'h5' | 'tfjs-layers' | 'tfjs-graph' | 'tflite' … (free text, shown to users). */
  format: string;
  path: string;
  sha256: string;
  inputs?: unknown;
  outputs?: unknown;
  parameterCount?: number;
}

export interface NewDataset {
  name?: string;
  kind: string;
  location: string;
  sampleCount: number;
  preprocessing?: unknown;
}

export interface DatasetRecord {
  id: string;
  name: string;
  kind: string;
  location: string;
  sampleCount: number;
  preprocessing: unknown;
  createdAt: string;
}

/** Bytes or a file path to store in the content-addressed artifact store. */
export type ArtifactSource = Uint8Array | string;

export interface ArtifactInput {
  source: ArtifactSource;
  /** 'tflite' | 'edgetpu-tflite' | 'checkpoint' | … */
  kind: string;
  /** File extension without the dot; 'tflite' when absent. */
  ext?: string;
}

export interface ArtifactRecord {
  id: string;
  sha256: string;
  kind: string;
  size: number;
  gzipSize: number;
  /** Absolute path of the stored file. */
  path: string;
  createdAt: string;
}

export interface NewMetric {
  name: string;
  value: number;
  datasetId?: string | null;
}

export interface NewBenchmark {
  /** e.g. 'tflite-wasm', 'edgetpu'. */
  runtime: string;
  deviceId?: string | null;
  coldMs?: number | null;
  warmMinMs: number;
  warmP50Ms: number;
  warmP90Ms: number;
  warmP99Ms: number;
  runs: number;
  /** Host CPU, runtime versions, USB link speed… */
  environment?: Record<string, unknown>;
}

export interface BenchmarkRecord extends Required<Omit<NewBenchmark, 'deviceId' | 'coldMs'>> {
  id: string;
  variantId: string;
  deviceId: string | null;
  coldMs: number | null;
  createdAt: string;
}

export interface NewVariant {
  modelId: string;
  parentId?: string | null;
  name: string;
  recipe?: unknown;
  status?: string;
  /** A new file to store, or the id of an artifact already in the store. */
  artifact?: ArtifactInput | { artifactId: string } | null;
  metrics?: NewMetric[];
  benchmarks?: NewBenchmark[];
  /** Per-variant reports by kind (e.g. 'edgetpu-compiler', 'sensitivity'), JSON-able. */
  reports?: Record<string, unknown>;
}

export interface VariantDetail extends VariantSummary {
  benchmarks: BenchmarkRecord[];
  /** Kinds of the reports stored for this variant (read one with getReport). */
  reportKinds: string[];
}

export interface VariantTreeNode extends VariantSummary {
  children: VariantTreeNode[];
}

export interface DeviceSighting {
  kind: string;
  /** Stable identity when the device has one; otherwise the port path identifies it. */
  serial?: string | null;
  portPath?: string | null;
  vendorId?: number | null;
  productId?: number | null;
  firmwareState?: string | null;
  linkSpeed?: string | null;
}

export interface DeviceRecord {
  id: string;
  kind: string;
  serial: string | null;
  portPath: string | null;
  vendorId: number | null;
  productId: number | null;
  firstSeen: string;
  lastSeen: string;
  firmwareState: string | null;
  linkSpeed: string | null;
}

export type Goal = 'size' | 'latency' | 'accuracy';

export interface BestVariantQuery {
  modelId: string;
  goal: Goal;
  /** Metric holding accuracy (higher is better). Default 'accuracy'. */
  accuracyMetric?: string;
  datasetId?: string;
  /**
   * Largest allowed drop of accuracy below the baseline (absolute, e.g. 0.01 = one point). Variants without an
   * accuracy metric are excluded when this is set.
   */
  maxAccuracyDrop?: number;
  /** Baseline accuracy; default: the best accuracy among the model's variants (normally the float one). */
  baselineAccuracy?: number;
  maxSizeBytes?: number;
  maxLatencyMs?: number;
  /** Only benchmarks from this runtime count for latency (e.g. 'edgetpu'). */
  runtime?: string;
}

export interface BestVariant {
  variant: VariantSummary;
  size: number | null;
  latencyMs: number | null;
  accuracy: number | null;
  baselineAccuracy: number | null;
}

/** A job row with the fields only the runner and a job's detail view need. */
export interface JobRecord extends JobSummary {
  heartbeatAt: string | null;
  /** Last lines the job logged, oldest first. */
  logTail: string[];
  errorCode: string | null;
  /** The last checkpoint the worker saved (resume starts from it). */
  checkpoint: unknown;
  attempts: number;
}

export interface JobPatch {
  state?: JobState;
  stage?: string | null;
  progress?: number;
  message?: string | null;
  error?: string | null;
  errorCode?: string | null;
  logTail?: string[];
  result?: unknown;
  checkpoint?: unknown;
  /** Sets heartbeat_at to now. */
  heartbeat?: boolean;
  attempts?: number;
}
