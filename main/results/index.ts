/** Results services: variant points, Pareto fronts, the recommended pick, comparison (docs/results.md). */
export { variantPoints, metricOf, techniqueOf, ACCURACY_METRICS, AGREEMENT_METRICS, CPU_RUNTIMES, EDGETPU_RUNTIMES } from './points.ts';
export { recommend, paretoFront, qualityKind, qualityOf, DEFAULT_MAX_ACCURACY_DROP } from './recommend.ts';
export { resultsSummary, variantIdsOfJob, type SummaryArgs } from './summary.ts';
export { compareVariants, flattenRecipe } from './compare.ts';
