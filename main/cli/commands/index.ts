import type { CommandEntry } from '../command.ts';

/**
 * Every `edgewise` sub-command, in the order `edgewise --help` lists them. Modules load only when their command
 * runs, so `--help` and light commands do not pay for TensorFlow.js, the TFLite runtime or USB.
 */
export const commands: CommandEntry[] = [
  { name: 'doctor', summary: 'Check compute backends, the TFLite runtime, USB access, the Edge TPU compiler and the data folder', load: async () => (await import('./doctor.ts')).doctor },
  { name: 'history', summary: 'List the models and variants in the history, or show one with its lineage', load: async () => (await import('./history.ts')).history },
  { name: 'inspect', summary: 'Show a model\'s inputs, outputs, ops, parameters, quantization and size (--edgetpu: predicted Edge TPU mapping per op)', load: async () => (await import('./inspect.ts')).inspect },
  { name: 'optimize', summary: 'Build an optimized .tflite (fp16, dynamic range, int8, int8 for Edge TPU), evaluate, benchmark and store it', load: async () => (await import('./optimize.ts')).optimize },
  { name: 'evaluate', summary: 'Accuracy (top-1/top-5, confusion matrix) and agreement with a reference model, in the TFLite runtime', load: async () => (await import('./evaluate.ts')).evaluate },
  { name: 'benchmark', summary: 'Measure cold start and warm latency (min, p50, p90, p99) of a .tflite in the TFLite runtime', load: async () => (await import('./benchmark.ts')).benchmark },
  { name: 'convert', summary: 'Import a Keras, TF.js or TFLite model and write a float32 .tflite (recorded in the history)', load: async () => (await import('./convert.ts')).convert },
  { name: 'compile', summary: "Compile a model for the Edge TPU with Google's edgetpu_compiler and store the result with the variant", load: async () => (await import('./compile.ts')).compile },
  { name: 'devices', summary: 'List Coral USB Accelerators (state, link speed) and what is missing to use them', load: async () => (await import('./devices.ts')).devices },
  { name: 'deploy', summary: 'Run a compiled model on a Coral USB Accelerator: cold/warm latency, throughput, agreement with the CPU', load: async () => (await import('./deploy.ts')).deploy },
];
