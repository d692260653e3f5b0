/**
 * How the emulated chip gets its answers: the compiled model's CPU twin (the `x.tflite` it was compiled from)
 * run in the real TFLite WASM runtime, matched by tensor name; or canned bytes. Layers the twin cannot produce
 * (e.g. LSTM state outputs `*_variable_output`) echo their input state or stay zero.
 */
import { TfliteInterpreter } from '../../native-bridges/tflite-runtime.ts';
import { flipSign, tensorBytes } from '../../main/devices/layers.ts';
import { runtimeArray } from '../../main/devices/partition.ts';
import type { Executable } from '../../main/devices/package.ts';
import type { ComputeFn, EmulatedModelSpec } from './coral-stick.ts';

function asBytes(a: ArrayBufferView): Uint8Array {
  return new Uint8Array(a.buffer, a.byteOffset, a.byteLength).slice();
}

/** A compute function backed by the CPU twin; inputs and outputs are matched to layers by tensor name. */
export async function twinCompute(twin: Uint8Array): Promise<ComputeFn> {
  const interp = await TfliteInterpreter.create(twin);
  return async (inputs) => {
    const out = new Map<string, Uint8Array>();
    for (const [i, t] of interp.inputs.entries()) {
      const data = inputs.get(t.name);
      if (!data) return out; // the twin needs an input the TPU part does not get: cannot compute
      interp.setInput(i, runtimeArray(t.dtype, data));
    }
    interp.invoke();
    interp.outputs.forEach((t, i) => out.set(t.name, asBytes(interp.output(i))));
    return out;
  };
}

/** Device input buffers → tensor bytes → the model's outputs (tensor bytes) by layer name. */
export async function fromDeviceInputs(spec: EmulatedModelSpec, exe: Executable, received: Map<string, Uint8Array>): Promise<Map<string, Uint8Array>> {
  const inputs = new Map<string, Uint8Array>();
  for (const l of exe.inputLayers) {
    const dev = received.get(l.name);
    if (!dev) continue;
    const t = dev.slice(0, tensorBytes(l));
    flipSign(t, l);
    inputs.set(l.name, t);
  }
  const out = spec.compute ? await spec.compute(inputs) : new Map(spec.canned ?? []);
  for (const l of exe.outputLayers) {
    if (out.has(l.name)) continue;
    const state = /^(.*)_variable_output$/.exec(l.name)?.[1];
    if (state && inputs.has(state)) out.set(l.name, inputs.get(state)!);
  }
  return out;
}
