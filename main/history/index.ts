/** The history store: SQLite database (better-sqlite3) + content-addressed artifact files. */
export { History, openHistory, toJobSummary } from './history.ts';
export { DB_FILE } from './db.ts';
export { LATEST_VERSION } from './migrations.ts';
export { sha256Hex } from './artifacts.ts';
export { HistoryError } from './types.ts';
export type {
  ArtifactInput,
  ArtifactRecord,
  ArtifactSource,
  BenchmarkRecord,
  BestVariant,
  BestVariantQuery,
  DatasetRecord,
  DeviceRecord,
  DeviceSighting,
  Goal,
  JobPatch,
  JobRecord,
  NewBenchmark,
  NewDataset,
  NewMetric,
  NewModel,
  NewVariant,
  VariantDetail,
  VariantTreeNode,
} from './types.ts';
