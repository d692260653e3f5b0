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

export interface CompiledVariant {
  variant: VariantSummary;
  compilerVersion: string;
  /** What the compiler reported, and what our own check predicted before compiling. */
  tpuOps: number | null;
  cpuOps: number | null;
  predicted: { mapped: number; cpu: number };
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
  /**
   * How the model was split: ops the compiler left on the CPU run in the TFLite runtime around the Edge TPU
   * op(s). Times are per inference (first call, and the warm median), CPU and Edge TPU parts separately.
   */
  parts?: { description: string; cpuSegments: number; tpuSegments: number; coldCpuMs: number; coldTpuMs: number; warmCpuP50Ms: number; warmTpuP50Ms: number };
}

// ---- Results, comparison, catalog, samples, settings (main/results, main/catalog, main/reports, main/settings) -----

/** What the user optimizes for in the wizard's results step. */
export type ResultsGoal = 'size' | 'cpu-speed' | 'edgetpu' | 'custom';

/** Budgets for the 'custom' goal: the most accurate variant within them wins. */
export interface CustomGoal {
  maxSizeBytes?: number;
  maxCpuLatencyMs?: number;
}

/** One variant reduced to the numbers the results screen plots and ranks. */
export interface VariantPoint {
  id: string;
  name: string;
  parentId: string | null;
  /** recipe.technique (or recipe.kind), e.g. 'int8', 'float16', 'convert', 'edgetpu-compile'. */
  technique: string | null;
  status: string;
  createdAt: string;
  sizeBytes: number | null;
  gzipBytes: number | null;
  /** Top-1 accuracy on labelled data, 0..1. */
  accuracy: number | null;
  /** Top-1 agreement with the original model, 0..1 (the original itself counts as 1). */
  agreement: number | null;
  /** Median warm latency on the host CPU (TFLite runtime), ms. */
  cpuP50Ms: number | null;
  /** Median warm latency on a Coral Edge TPU, ms. */
  edgetpuP50Ms: number | null;
  /** Ops mapped to the Edge TPU out of all ops (compiler report, else our prediction). */
  edgetpuOps: { mapped: number; total: number } | null;
  /** The original (float) model the others are compared with. */
  isBaseline: boolean;
}

export interface Recommendation {
  goal: ResultsGoal;
  /** null when no variant qualifies (the reason says why and what to do). */
  variantId: string | null;
  /** One plain sentence, e.g. "int8 is 3.9× smaller and 2.1× faster than the original and loses 0.1 points of accuracy." */
  reason: string;
  /** Variants that would have won on the goal but lose too much accuracy, with why. */
  rejected: { variantId: string; why: string }[];
}

export interface ResultsSummary {
  modelId: string;
  baselineId: string | null;
  /** Which quality number ranks variants: accuracy when measured, else agreement; null when neither is. */
  quality: 'accuracy' | 'agreement' | null;
  /** Largest accuracy drop (0..1, 0.01 = one point) a recommendation may have. */
  maxAccuracyDrop: number;
  variants: VariantPoint[];
  /** Ids on the Pareto front of quality vs size / vs CPU latency, smallest first. */
  fronts: { size: string[]; cpuLatency: string[] };
  recommendation: Recommendation;
}

export interface CompareRow {
  section: 'Overview' | 'Recipe' | 'Size' | 'Metrics' | 'Benchmarks' | 'Edge TPU' | 'Ops' | 'Reports';
  label: string;
  /** One value per compared variant, in order; null when the variant has none. */
  values: (string | number | boolean | null)[];
  unit?: string;
  /** Not all values are equal: "differences only" keeps just these rows. */
  differs: boolean;
}

export interface CompareResult {
  variants: { id: string; name: string; modelId: string }[];
  rows: CompareRow[];
}

/** Published figures of a hosted model, each with where it comes from; null when not published. */
export interface CatalogFigure {
  value: number;
  /** e.g. 'ms', '%', 'MB'. */
  unit: string;
  /** What was measured where, e.g. "Edge TPU USB, x86-64, USB3 (pycoral reference)". */
  setting: string;
  source: string;
}

export interface CatalogModel {
  id: string;
  name: string;
  task: 'classification' | 'detection' | 'segmentation';
  description: string;
  /** 'edgetpu' files run on a Coral stick; 'cpu' files are the uncompiled quantized models. */
  target: 'edgetpu' | 'cpu';
  input: { width: number; height: number; channels: number; dtype: string };
  fileName: string;
  url: string;
  /** Exact size in bytes when known. */
  sizeBytes: number | null;
  /** Lower-case hex; null → the download is reported "unverified". */
  sha256: string | null;
  licence: string;
  /** Published file sizes (e.g. the TF hosted-models table), when the exact byte count is not known. */
  publishedSize: CatalogFigure[];
  accuracy: CatalogFigure[];
  latency: CatalogFigure[];
  notes?: string;
}

export interface SampleItem {
  id: string;
  name: string;
  description: string;
  kind: 'model' | 'dataset';
  /** Pre-picked: a model handle for models, a dataset handle for datasets. */
  file: PickedFile;
  details: Record<string, string | number>;
}

export type ComputeBackendPreference = 'auto' | 'tensorflow' | 'wasm' | 'cpu';

export interface Settings {
  version: 1;
  /** Which TF.js backend jobs use; 'auto' = the fastest available (tensorflow > wasm > cpu). */
  computeBackend: ComputeBackendPreference;
  /** Worker threads for the wasm backend and TFLite runtime; null = automatic. */
  threads: number | null;
  /** Range-selection method new int8 recipes start with. */
  defaultCalibrationMethod: 'minmax' | 'percentile' | 'mse' | 'kl';
  /** Largest accuracy drop (in points, 1 = one percentage point) the results step accepts for a recommendation. */
  maxAccuracyDropPoints: number;
  /** Goal the results step opens with. */
  defaultGoal: ResultsGoal;
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

/** A picked dataset plus the preprocessing overrides shown to the user (defaults come from the model). */
export interface OptimizeDatasetArg {
  file: string;
  preprocessing?: { scale?: 'unit' | 'symmetric' | 'raw'; mean?: number[]; std?: number[]; resize?: { height: number; width: number } };
  limit?: number;
}

export interface OptimizeStartArgs {
  /** File handle of the model (from files.pick). */
  model: string;
  recipe: 'fp16' | 'dynamic' | 'int8' | 'int8-edgetpu';
  calibration?: OptimizeDatasetArg;
  eval?: OptimizeDatasetArg;
  /** Overrides written into the stored recipe. */
  calibrationMethod?: 'minmax' | 'percentile' | 'mse' | 'kl';
  fallback?: 'none' | 'auto';
}

/** What "Re-run with changes" may change in a stored recipe (flat; everything else stays as recorded). */
export interface RecipeChanges {
  /** Name of the new variant (default: the old name plus what changed). */
  name?: string;
  calibrationMethod?: 'minmax' | 'percentile' | 'mse' | 'kl';
  /** For the 'percentile' method, e.g. 99.99. */
  percentile?: number;
  /** Representative samples used for calibration. */
  samples?: number;
  perChannel?: boolean;
  biasCorrection?: boolean;
  equalization?: boolean;
  fallback?: 'none' | 'auto';
}

export interface RerunArgs {
  /** The variant whose recorded recipe is the starting point. */
  id: string;
  changes: RecipeChanges;
  /** Other data than the original job used (picked-file handles); default: the data of the job that built the variant. */
  calibration?: OptimizeDatasetArg;
  eval?: OptimizeDatasetArg;
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
  /** Compiles a variant with Google's edgetpu_compiler (where installed) into a child variant ready to deploy. */
  'devices.compile': { args: { variantId: string }; result: CompiledVariant };
  /** Imports a picked model file (records it in the history) and describes it, with an Edge TPU preview. */
  'models.inspect': { args: { file: string }; result: ModelInfo };
  /** Opens a picked dataset with the model's preprocessing (plus overrides), checks it fits, renders a sample. */
  'datasets.inspect': { args: { file: string; modelId?: string; preprocessing?: PreprocessingSettings }; result: DatasetInfo };
  /** A variant with lineage, children, benchmarks, reports and its model graph (Netron-style facts). */
  'history.variantPage': { args: { id: string }; result: VariantPage };

  /** Variants of a model (or of one job, plus the model's original) with Pareto fronts and a recommended pick. */
  'results.summary': {
    args: { modelId?: string; jobId?: string; goal?: ResultsGoal; maxAccuracyDrop?: number; custom?: CustomGoal };
    result: ResultsSummary;
  };
  /** 2–4 variants side by side; rows carry `differs` for "differences only". */
  'history.compare': { args: { ids: string[] }; result: CompareResult };
  /** Deletes a variant and the artifact files no other variant uses (the UI confirms first). */
  'history.delete': { args: { id: string; withDescendants?: boolean }; result: { deletedVariants: string[]; deletedArtifacts: string[] } };
  /** Copies a variant's model file to a file the user picked for export. */
  'history.exportArtifact': { args: { id: string; handle: string }; result: { bytes: number; name: string } };
  /** Writes an HTML or Markdown report of a model's variants to a file the user picked for export. */
  'reports.export': { args: { modelId: string; format: 'html' | 'markdown'; handle: string; goal?: ResultsGoal }; result: { bytes: number; name: string } };
  /** Hosted pre-optimized models (Coral / TensorFlow) with their published figures. */
  'catalog.list': { args: Record<string, never>; result: { version: number; models: CatalogModel[] } };
  /** Starts a 'catalog-download' job (progress via job events; result: { modelId, variantId, path, verified }). */
  'catalog.download': { args: { id: string }; result: JobSummary };
  /**
   * Starts an 'optimize' job (PTQ: fp16 | dynamic | int8 | int8-edgetpu) on a picked model with picked datasets;
   * progress via job events (stages import, calibrate, quantize, write, evaluate, benchmark, store);
   * result: { variantIds, modelId, sizeRatio, accuracyDrop, top1Agreement, p50Ratio, warnings }.
   */
  'optimize.start': { args: OptimizeStartArgs; result: JobSummary };
  /**
   * Re-runs a variant's recipe with changes on the same model file: an 'optimize' job (as optimize.start) whose
   * variant is stored under the same model, next to the original.
   */
  'history.rerun': { args: RerunArgs; result: JobSummary };
  /** The embedded sample model and dataset, as pre-picked file handles. */
  'samples.list': { args: Record<string, never>; result: SampleItem[] };
  'settings.get': { args: Record<string, never>; result: Settings };
  /** Merges the given fields, validates, saves; returns the stored settings. */
  'settings.set': { args: Partial<Omit<Settings, 'version'>>; result: Settings };
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

/**
 * Model files dropped on the window (Electron): the preload read their paths from a real drop and the main
 * process registered them as handles, exactly like a pick. Sent only to the window they were dropped on.
 */
export interface FilesDroppedEvent {
  type: 'files-dropped';
  files: PickedFile[];
  /** Dropped items that were refused (name only, with why). */
  rejected: { name: string; reason: string }[];
}

export type ApiEvent = JobProgressEvent | DevicesChangedEvent | FilesDroppedEvent;

// ---- Transport ------------------------------------------------------------------------------------------

/** IPC channel names (Electron) and WebSocket message kinds (web test host). */
export const CHANNELS = {
  invoke: 'edgewise:invoke',
  event: 'edgewise:event',
  /** Preload → main only: paths of files from a trusted drop event (never exposed to the page). */
  drop: 'edgewise:drop',
} as const;

/** What the preload exposes as `window.edgewise`, and what the web test host's client implements too. */
export interface EdgewiseApi {
  invoke<M extends ApiMethod>(method: M, args: ArgsOf<M>): Promise<Result<ResultOf<M>>>;
  /** Subscribes to events; returns the unsubscribe function. */
  onEvent(listener: (event: ApiEvent) => void): () => void;
}
