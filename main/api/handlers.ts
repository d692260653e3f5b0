/**
 * What each API method does, given already-validated arguments. Handlers stay thin: they call a service and
 * return its JSON-able value; errors are thrown (with a `code` when known) and mapped by `createApi`.
 * Adding a method: contract type in preload/contract.ts, schema in schemas.ts, implementation here.
 */
import type { ApiMethod, ArgsOf, ResultOf } from '../../preload/contract.ts';
import type { Services } from './services.ts';
import { resultsSummary, compareVariants } from '../results/index.ts';
import { exportArtifact, exportReport } from '../reports/index.ts';
import { catalogEntry, loadCatalog } from '../catalog/catalog.ts';
import { listSamples } from '../catalog/samples.ts';
import { loadSettings, saveSettings } from '../settings.ts';
import { inspectDatasetFile, inspectModelFile, modelInputShape, variantPage } from './inspect.ts';
import { optimizeJobParams } from '../optimize/ptq/api-params.ts';
import { rerun } from './rerun.ts';
import { compileVariant } from '../devices/compile-variant.ts';

type Implementations = {
  [M in ApiMethod]: (args: ArgsOf<M>, services: Services) => Promise<ResultOf<M>> | ResultOf<M>;
};

export const handlers: Implementations = {
  'app.doctor': (_args, s) => s.doctor(),

  'history.listModels': (args, s) => s.history.listModels(args),
  'history.listVariants': (args, s) => s.history.listVariants(args),
  'history.getVariant': ({ id }, s) => s.history.getVariantWithLineage(id),

  'jobs.list': ({ states }, s) => s.jobs.list(states),
  'jobs.cancel': ({ id }, s) => s.jobs.cancel(id),
  'jobs.resume': ({ id }, s) => s.jobs.resume(id),
  'jobs.discard': ({ id }, s) => s.jobs.discard(id),

  'files.pick': ({ purpose, folder }, s) => s.files.pick(purpose, folder),

  'devices.list': (_args, s) => s.devices.list(),
  'devices.deploy': (args, s) => s.devices.deploy(args),
  'devices.doctor': (_args, s) => s.devices.doctor(),
  'devices.compile': async ({ variantId }, s) => {
    const r = await compileVariant(s.history, variantId);
    return { variant: s.history.getVariant(r.variantId!), compilerVersion: r.compiler.version, tpuOps: r.report.tpuOps ?? null, cpuOps: r.report.cpuOps ?? null, predicted: r.predicted };
  },

  'models.inspect': ({ file }, s) => inspectModelFile(s.history, s.files.resolve(file, 'model'), s.files.nameOf(file)),
  'datasets.inspect': ({ file, modelId, preprocessing }, s) =>
    inspectDatasetFile(s.files.resolve(file, 'dataset'), s.files.nameOf(file), {
      ...(modelId ? { inputShape: modelInputShape(s.history.getModel(modelId)) } : {}),
      ...(preprocessing ? { preprocessing } : {}),
    }),
  'history.variantPage': ({ id }, s) => variantPage(s.history, id),

  // The Settings accuracy budget unless the caller gives one.
  'results.summary': (args, s) => resultsSummary(s.history, { maxAccuracyDrop: loadSettings(s.dataDir).maxAccuracyDropPoints / 100, ...args }),
  'history.compare': ({ ids }, s) => compareVariants(s.history, ids),
  'history.delete': ({ id, withDescendants }, s) => s.history.deleteVariant(id, { withDescendants: withDescendants ?? false }),
  'history.exportArtifact': ({ id, handle }, s) => ({ ...exportArtifact(s.history, id, s.files.resolve(handle, 'export')), name: s.files.nameOf(handle) }),
  'reports.export': ({ modelId, format, handle, goal }, s) => ({
    ...exportReport(s.history, { modelId, format, path: s.files.resolve(handle, 'export'), ...(goal ? { goal } : {}) }),
    name: s.files.nameOf(handle),
  }),
  'catalog.list': () => loadCatalog(),
  'catalog.download': ({ id }, s) => s.jobs.submit('catalog-download', { entry: catalogEntry(id) }),
  'optimize.start': (a, s) => s.jobs.submit('optimize', optimizeJobParams(a, s.files)),
  'history.rerun': (a, s) => rerun(s, a),
  'samples.list': (_args, s) => listSamples(s.files),
  'settings.get': (_args, s) => loadSettings(s.dataDir),
  'settings.set': (patch, s) => saveSettings(s.dataDir, patch),
};
