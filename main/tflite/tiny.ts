/** A two-input float32 ADD model ([2] + [2]), written with our own writer: the runtime probe's test model. */
import { writeTflite } from './writer.ts';

export function tinyAddModel(): Uint8Array {
  const tensor = (name: string) => ({ name, shape: [2], type: 'FLOAT32' as const, buffer: 0, isVariable: false });
  return writeTflite({
    version: 3,
    description: 'Edgewise runtime probe',
    operatorCodes: [{ builtin: 'ADD', builtinCode: 0, version: 1 }],
    subgraphs: [{
      name: 'main',
      tensors: [tensor('a'), tensor('b'), tensor('sum')],
      inputs: [0, 1],
      outputs: [2],
      operators: [{ opcodeIndex: 0, inputs: [0, 1], outputs: [2], builtinOptions: { type: 'AddOptions', fusedActivationFunction: 'NONE' } }],
    }],
    buffers: [new Uint8Array(0)],
    metadata: [],
    signatureDefs: [],
  });
}
