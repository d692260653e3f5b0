/**
 * The one API between the renderer and the main process: method names, argument and result types, the
 * result envelope and the event stream. Types only (plus the channel names), so the renderer, the preload,
 * the main-process handlers (`main/api/`), the CLI and the web test host all share it without pulling in Node.
 *
 * Adding a method: add it to `ApiMethods` here, add its argument schema and handler in `main/api/`, and the
 * preload, IPC wiring and web test host pick it up with no further change.
 */

/** Machine-readable error codes; the message is for people. */
export type ErrorCode =
  | 'INVALID_ARGUMENT' // the request did not match the method's schema
  | 'NOT_FOUND' // an id or a file does not exist
  | 'BAD_MODEL' // the model file cannot be read or is not supported
  | 'BAD_DATA' // the dataset cannot be read or does not fit the model
  | 'UNSUPPORTED' // a valid request Edgewise cannot do (names what is missing)
  | 'DEVICE' // a USB device error (permission, busy, unplugged, timeout)
  | 'CANCELLED'
  | 'CONFLICT' // e.g. the device is owned by another job
  | 'FORBIDDEN' // the renderer asked for something it may not do (a file it did not pick)
  | 'INTERNAL';

export interface ApiError {
  code: ErrorCode;
  message: string;
  /** What the user can do about it, when we know. */
  hint?: string;
}

export type Result<T> = { ok: true; value: T } | { ok: false; error: ApiError };

// ---- Shared value types -------------------------------------------------------------------------------

export type JobState = 'queued' | 'running' | 'completed' | 'failed' | 'cancelled' | 'interrupted';

export interface JobSummary {
  id: string;
  kind: string;
  state: JobState;
  stage: string | null;
  progress: number; // 0..1
  message: string | null;
  error: string | null;
  createdAt: string;
  updatedAt: string;
  /** What the job was asked to do (kind-specific, JSON). */
  params: unknown;
  /** What it produced (e.g. variant ids), when completed. */
  result: unknown;
}

export interface DoctorCheck {
  name: string;
  ok: boolean;
  /** One line: what was found. */
  detail: string;
  /** How to fix it, when not ok. */
  fix?: string;
}

export interface DoctorReport {
  checks: DoctorCheck[];
  compute: { backends: { name: string; available: boolean; detail: string }[]; selected: string };
  dataDir: string;
  platform: string;
  versions: Record<string, string>;
}

export interface ModelSummary {
  id: string;
  name: string;
  format: string;
  path: string;
  sha256: string;
  parameterCount: number;
  inputs: unknown;
  outputs: unknown;
  createdAt: string;
  variantCount: number;
}

export interface MetricValue {
  name: string;
  value: number;
  datasetId: string | null;
}

export interface VariantSummary {
  id: string;
  modelId: string;
  parentId: string | null;
  name: string;
  recipe: unknown;
  status: string;
  createdAt: string;
  artifact: { sha256: string; size: number; gzipSize: number; path: string } | null;
  metrics: MetricValue[];
}

export interface HistoryListArgs {
  search?: string;
  modelId?: string;
  sort?: 'created' | 'name' | 'size';
  order?: 'asc' | 'desc';
  limit?: number;
  offset?: number;
}

/** What a file is picked for; a handle only opens for the purpose it was picked for. */
export type FilePurpose = 'model' | 'dataset' | 'export';

/** An opaque handle to a file the user picked; the real path never reaches the renderer. */
export interface PickedFile {
  handle: string;
  /** The file name only, for display. */
  name: string;
  purpose: FilePurpose;
}

// ---- Devices (Coral USB Accelerator) ----------------------------------------------------------------------

export interface DeviceSummary {
  /** Bus/port path (`1-2.3`): the stick's identity (it has no serial number). */
  path: string;
  state: 'needs-firmware' | 'ready' | 'busy' | 'error';
  /** `1a6e:089a` in its boot ROM, `18d1:9302` with firmware loaded. */
  usbId: string;
  linkSpeed: 'low' | 'full' | 'high' | 'super' | 'unknown';
  /** History id of this device, when recorded. */
  deviceId?: string;
  /** The last error on this stick, when state is 'error'. */
  detail?: string;
}

export interface DeployArgs {
  /** A compiled variant in the history, or… */
  variantId?: string;
  /** …a `*_edgetpu.tflite` file (CLI). */
  file?: string;
  /** Device path; default: the first stick. */
  device?: string;
  /** Warm runs after the first (cold) one; default 50. */
  runs?: number;
  /** The uncompiled model to compare outputs with (default: the variant's parent, or `x.tflite` next to `x_edgetpu.tflite`). */
  cpuTwin?: string;
  /** Firmware image file when the stick is in its boot ROM (default: found in an installed libedgetpu). */
  firmware?: string;
}

export interface DeployResult {
  device: string;
  linkSpeed: string;
  model: string;
  variantId?: string;
  firmwareLoaded: boolean;
  firmwareMs: number;
  runs: number;
  /** First inference, including parameter caching. */
  coldMs: number;
  warmMinMs: number;
  warmP50Ms: number;
  warmP90Ms: number;
  warmP99Ms: number;
  throughputPerSec: number;
  agreement: { checked: boolean; agree: boolean; maxAbsDiff: number | null; detail: string };
  warnings: string[];
  benchmarkId?: string;
}

// ---- Wizard: model and dataset inspection (main/api/inspect.ts) ----------------------------------------------

export interface TensorInfo {
  name: string;
  shape: number[];
  dtype: string;
  /** Quantization in plain words ("real value = 0.0039 × (q + 128)"), when the tensor is quantized. */
  quantization?: string;
}

/** Edge TPU compatibility preview (our predictor, no compiler), grouped by op type. */
export interface EdgeTpuPreview {
  /** 'as-is': the file is quantized and was checked as it is; 'after-int8': a float model, checked as if fully int8-quantized. */
  basis: 'as-is' | 'after-int8';
  mapped: number;
  total: number;
  ops: { op: string; count: number; mapped: number; status: string }[];
  notes: string[];
}

export interface ModelInfo {
  /** The model as recorded in the history (import = record). */
  model: ModelSummary;
  fileName: string;
  format: string;
  formatLabel: string;
  /** One or two plain sentences: what goes in, what comes out, how big. */
  summary: string;
  fileSize: number;
  gzippedSize: number;
  parameterCount: number | null;
  opCount: number;
  ops: { op: string; count: number }[];
  inputs: TensorInfo[];
  outputs: TensorInfo[];
  quantized: boolean;
  edgeTpu: EdgeTpuPreview | null;
  warnings: string[];
}

/** Preprocessing settings as main/data's `Preprocessing` (JSON). */
export type PreprocessingSettings = Record<string, unknown>;

export interface DatasetInfo {
  fileName: string;
  kind: string;
  count: number;
  labelled: boolean;
  classNames: string[] | null;
  /** One preprocessed sample's shape. */
  sampleShape: number[];
  preprocessing: PreprocessingSettings;
  preprocessingText: string;
  /** Will probably hurt results (too few samples, odd value range). */
  warnings: string[];
  /** Will not work with the model (shape mismatch). */
  problems: string[];
  /** The first sample after preprocessing, as the model sees it (PNG data URL), with its value range. */
  preview: { image: string; height: number; width: number; channels: number; min: number; max: number; label: string | null } | null;
}

/** Everything the variant page shows. */
export interface VariantPage {
  variant: VariantSummary;
  lineage: VariantSummary[];
  children: VariantSummary[];
  benchmarks: { id: string; runtime: string; deviceId: string | null; coldMs: number | null; warmMinMs: number; warmP50Ms: number; warmP90Ms: number; warmP99Ms: number; runs: number; environment: Record<string, unknown>; createdAt: string }[];
  /** Stored reports by kind (e.g. 'sensitivity', 'evaluation'). */
  reports: Record<string, unknown>;
  /** The artifact inspected: ops and tensors with quantization in plain words (null without a .tflite artifact). */
  graph: { format: string; opCount: number; ops: { op: string; count: number }[]; inputs: TensorInfo[]; outputs: TensorInfo[]; quantizedTensors: TensorInfo[]; tensorCount: number; minRuntimeVersion: string | null } | null;
}

// ---- Methods --------------------------------------------------------------------------------------------

export interface ApiMethods {
  'app.doctor': { args: Record<string, never>; result: DoctorReport };
  'history.listModels': { args: HistoryListArgs; result: { items: ModelSummary[]; total: number } };
  'history.listVariants': { args: HistoryListArgs; result: { items: VariantSummary[]; total: number } };
  'history.getVariant': { args: { id: string }; result: VariantSummary & { lineage: VariantSummary[] } };
  'jobs.list': { args: { states?: JobState[] }; result: JobSummary[] };
  'jobs.cancel': { args: { id: string }; result: JobSummary };
  /** Re-queues an interrupted, failed or cancelled job from its last checkpoint. */
  'jobs.resume': { args: { id: string }; result: JobSummary };
  /** Gives up an interrupted job (it becomes cancelled; its record stays). */
  'jobs.discard': { args: { id: string }; result: JobSummary };
  /** Shows a native picker (a folder picker when `folder`, e.g. an image-folder dataset); null when cancelled. */
  'files.pick': { args: { purpose: FilePurpose; folder?: boolean }; result: PickedFile | null };
  'devices.list': { args: Record<string, never>; result: DeviceSummary[] };
  /** Loads firmware if needed, runs the variant on the stick, stores and returns the benchmark. */
  'devices.deploy': { args: DeployArgs; result: DeployResult };
  /** What is missing for Coral deployment (USB access, udev rule, firmware, compiler), with fixes. */
  'devices.doctor': { args: Record<string, never>; result: DoctorCheck[] };
  /** Imports a picked model file (records it in the history) and describes it, with an Edge TPU preview. */
  'models.inspect': { args: { file: string }; result: ModelInfo };
  /** Opens a picked dataset with the model's preprocessing (plus overrides), checks it fits, renders a sample. */
  'datasets.inspect': { args: { file: string; modelId?: string; preprocessing?: PreprocessingSettings }; result: DatasetInfo };
  /** A variant with lineage, children, benchmarks, reports and its model graph (Netron-style facts). */
  'history.variantPage': { args: { id: string }; result: VariantPage };
}

export type ApiMethod = keyof ApiMethods;
export type ArgsOf<M extends ApiMethod> = ApiMethods[M]['args'];
export type ResultOf<M extends ApiMethod> = ApiMethods[M]['result'];

// ---- Events (main → renderer) ---------------------------------------------------------------------------

export interface JobProgressEvent {
  type: 'job';
  job: JobSummary;
  /** Numbers worth showing live (loss, accuracy so far, …). */
  metrics?: Record<string, number>;
  log?: string;
}

export interface DevicesChangedEvent {
  type: 'devices';
}

export type ApiEvent = JobProgressEvent | DevicesChangedEvent;

// ---- Transport ------------------------------------------------------------------------------------------

/** IPC channel names (Electron) and WebSocket message kinds (web test host). */
export const CHANNELS = { invoke: 'edgewise:invoke', event: 'edgewise:event' } as const;

/** What the preload exposes as `window.edgewise`, and what the web test host's client implements too. */
export interface EdgewiseApi {
  invoke<M extends ApiMethod>(method: M, args: ArgsOf<M>): Promise<Result<ResultOf<M>>>;
  /** Subscribes to events; returns the unsubscribe function. */
  onEvent(listener: (event: ApiEvent) => void): () => void;
}
