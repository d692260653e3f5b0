/**
 * The Optimize wizard's state: what the user chose in each step and the jobs it started. Lives at module level
 * so leaving the screen (or the job outliving the view) keeps it; the jobs themselves live in the main process.
 */
import type { ApiError, DatasetInfo, JobSummary, ModelInfo, PickedFile, ResultsGoal } from '../../preload/contract.ts';
import { onEvent, request } from './api.ts';

export const STEPS = ['Model', 'Goal', 'Data', 'Plan', 'Run', 'Results', 'Deploy'] as const;
export type StepName = (typeof STEPS)[number];

export type Preset = 'fp16' | 'dynamic' | 'int8' | 'int8-edgetpu';
export type CalibrationMethod = 'minmax' | 'percentile' | 'mse' | 'kl';

export const PRESETS: Record<Preset, { label: string; needsData: boolean; what: string; seconds: number }> = {
  fp16: { label: 'float16', needsData: false, what: 'Weights stored as 16-bit floats: about half the size, same accuracy; fastest on GPUs.', seconds: 2 },
  dynamic: { label: 'Dynamic range', needsData: false, what: 'Weights stored as int8, activations stay float: about 4× smaller, no data needed.', seconds: 2 },
  int8: { label: 'Full integer (int8)', needsData: true, what: 'Weights and activations in int8, calibrated on your data: about 4× smaller and fastest on CPUs.', seconds: 6 },
  'int8-edgetpu': { label: 'Full integer for the Edge TPU', needsData: true, what: 'int8 everywhere including inputs and outputs (uint8), as the Edge TPU requires.', seconds: 6 },
};

export const GOALS: { id: ResultsGoal; title: string; explain: string; presets: Preset[] }[] = [
  {
    id: 'size', title: 'Smaller download',
    explain: 'Start with post-training quantization: dynamic range needs no data and shrinks weights about 4×; float16 halves them with no accuracy cost.',
    presets: ['dynamic', 'fp16', 'int8'],
  },
  {
    id: 'cpu-speed', title: 'Faster on CPU',
    explain: 'Full integer quantization runs every op in int8, which is what makes CPUs fast; it needs a few hundred representative samples.',
    presets: ['int8', 'dynamic'],
  },
  {
    id: 'edgetpu', title: 'Runs on the Edge TPU',
    explain: 'The Edge TPU runs only fully integer models: int8 weights and activations with integer inputs and outputs, calibrated on your data.',
    presets: ['int8-edgetpu', 'int8'],
  },
  {
    id: 'custom', title: 'Custom',
    explain: 'Pick the techniques yourself. If quantization loses too much accuracy, quantization-aware training is the next step; pruning or clustering before quantizing shrinks the download further.',
    presets: ['fp16', 'int8'],
  },
];

export interface DataChoice {
  file: PickedFile;
  info: DatasetInfo;
}

export interface PlanItem {
  preset: Preset;
  enabled: boolean;
}

class Wizard {
  step = $state(0);
  model = $state<ModelInfo | null>(null);
  modelFile = $state<PickedFile | null>(null);
  modelError = $state<ApiError | null>(null);
  goal = $state<ResultsGoal>('size');
  calibration = $state<DataChoice | null>(null);
  evaluation = $state<DataChoice | null>(null);
  /** Overrides of the preprocessing the model implies (e.g. scale). */
  scale = $state<'unit' | 'symmetric' | 'raw'>('unit');
  plan = $state<PlanItem[]>([]);
  /** Range selection for int8 calibration; the pipeline's default is used unless the user picks one. */
  method = $state<CalibrationMethod>('percentile');
  samples = $state(500);
  jobIds = $state<string[]>([]);
  logs = $state<{ jobId: string; line: string }[]>([]);
  /** Set when the run ended (all jobs finished), so the Results step knows which jobs to show. */
  finished = $state(false);

  #listening = false;

  get needsData(): boolean {
    return this.plan.some((p) => p.enabled && PRESETS[p.preset].needsData);
  }

  setGoal(goal: ResultsGoal): void {
    this.goal = goal;
    const presets = GOALS.find((g) => g.id === goal)!.presets;
    this.plan = (Object.keys(PRESETS) as Preset[]).map((preset) => ({ preset, enabled: presets.includes(preset) }));
  }

  /** Seconds, roughly: per variant a fixed cost plus forward passes over the calibration and evaluation data. */
  estimateSeconds(): number {
    const params = this.model?.parameterCount ?? 100_000;
    const perSample = Math.max(0.0005, params / 2e8);
    const calib = Math.min(this.samples, this.calibration?.info.count ?? 0);
    const evalCount = this.evaluation?.info.count ?? 0;
    let total = 0;
    for (const p of this.plan) {
      if (!p.enabled) continue;
      total += PRESETS[p.preset].seconds + evalCount * perSample * 2 + (PRESETS[p.preset].needsData ? calib * perSample * 3 : 0);
    }
    return Math.round(total);
  }

  /** A new run starts from the Settings defaults (goal, calibration method). */
  async loadDefaults(): Promise<void> {
    const r = await request('settings.get', {});
    if (!r.ok || this.model || this.step !== 0) return;
    this.method = r.value.defaultCalibrationMethod;
    this.setGoal(r.value.defaultGoal);
  }

  reset(): void {
    this.step = 0;
    this.model = null;
    this.modelFile = null;
    this.modelError = null;
    this.calibration = null;
    this.evaluation = null;
    this.jobIds = [];
    this.logs = [];
    this.finished = false;
    void this.loadDefaults();
  }

  /** Collects live log lines of this wizard's jobs (the jobs store keeps only the latest state). */
  listen(): void {
    if (this.#listening) return;
    this.#listening = true;
    onEvent((event) => {
      if (event.type !== 'job' || !event.log || !this.jobIds.includes(event.job.id)) return;
      this.logs = [...this.logs.slice(-400), { jobId: event.job.id, line: event.log }];
    });
  }

  async inspectModel(file: PickedFile): Promise<void> {
    this.modelFile = file;
    this.model = null;
    this.modelError = null;
    const result = await request('models.inspect', { file: file.handle });
    if (result.ok) {
      this.model = result.value;
      this.calibration = null;
      this.evaluation = null;
    } else this.modelError = result.error;
  }

  async inspectData(file: PickedFile): Promise<{ ok: true; value: DatasetInfo } | { ok: false; error: ApiError }> {
    return request('datasets.inspect', {
      file: file.handle,
      ...(this.model ? { modelId: this.model.model.id } : {}),
      preprocessing: { scale: this.scale },
    });
  }

  /** Starts one optimize job per planned variant; returns the jobs started. */
  async start(): Promise<{ jobs: JobSummary[]; errors: ApiError[] }> {
    this.listen();
    this.finished = false;
    this.logs = [];
    const jobs: JobSummary[] = [];
    const errors: ApiError[] = [];
    for (const item of this.plan.filter((p) => p.enabled)) {
      const needsData = PRESETS[item.preset].needsData;
      const result = await request('optimize.start', {
        model: this.modelFile!.handle,
        recipe: item.preset,
        ...(needsData ? { calibrationMethod: this.method } : {}),
        ...(this.calibration && needsData ? { calibration: { file: this.calibration.file.handle, preprocessing: { scale: this.scale }, limit: this.samples } } : {}),
        ...(this.evaluation ? { eval: { file: this.evaluation.file.handle, preprocessing: { scale: this.scale } } } : {}),
      });
      if (result.ok) jobs.push(result.value);
      else errors.push(result.error);
    }
    this.jobIds = jobs.map((j) => j.id);
    return { jobs, errors };
  }
}

export const wizard = new Wizard();
wizard.setGoal('size');
