/** `edgewise evaluate <model> --data <dataset> [--reference <model>] [--json]`: accuracy and agreement in the TFLite runtime. */
import { CliError, type CliCommand } from '../command.ts';
import { evaluateModel, formatEvaluation, type EvaluationReport } from '../../evaluate/evaluate.ts';
import { withCode } from '../../evaluate/errors.ts';
import { DATASET_FLAGS, DATASET_USAGE, datasetArgs } from './dataset-flags.ts';

export const evaluate: CliCommand = {
  usage: `edgewise evaluate <model> --data <dataset> [--reference <model>] ${DATASET_USAGE} [--json]`,
  options: { data: { type: 'string' }, reference: { type: 'string' }, ...DATASET_FLAGS },
  async run(positionals, options, ctx): Promise<EvaluationReport> {
    const [model] = positionals;
    if (!model || positionals.length > 1) throw new CliError('INVALID_ARGUMENT', 'expected exactly one model path', evaluate.usage);
    if (typeof options.data !== 'string') throw new CliError('INVALID_ARGUMENT', '--data <dataset> is required', evaluate.usage);
    const data = datasetArgs(options.data, options);
    let last = -1;
    return withCode('BAD_DATA', () => evaluateModel(model, data, {
      reference: typeof options.reference === 'string' ? options.reference : undefined,
      onProgress: (done, total) => {
        const pct = Math.floor((done / total) * 10);
        if (pct !== last) ctx.progress(`evaluating: ${done}/${total}`);
        last = pct;
      },
    }));
  },
  format: formatEvaluation,
};
