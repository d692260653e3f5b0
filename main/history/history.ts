/**
 * The history store: typed repositories over the SQLite database plus the content-addressed artifact store.
 * All methods are synchronous (better-sqlite3); every multi-row write runs in one transaction so readers never
 * see a half-written variant. Rows are mapped to the API contract's types (ModelSummary, VariantSummary,
 * JobSummary) or to the JSON-friendly records in ./types.ts.
 */
import { randomUUID } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type Database from 'better-sqlite3';
import type { HistoryListArgs, JobState, JobSummary, MetricValue, ModelSummary, VariantSummary } from '../../preload/contract.ts';
import { dataDir } from '../paths.ts';
import { listStoreFiles, removeArtifactFile, sweepTempFiles, writeArtifactFile } from './artifacts.ts';
import { DB_FILE, openDatabase } from './db.ts';
import {
  HistoryError,
  type ArtifactInput,
  type ArtifactRecord,
  type ArtifactSource,
  type BenchmarkRecord,
  type BestVariant,
  type BestVariantQuery,
  type DatasetRecord,
  type DeviceRecord,
  type DeviceSighting,
  type JobPatch,
  type JobRecord,
  type NewBenchmark,
  type NewDataset,
  type NewMetric,
  type NewModel,
  type NewVariant,
  type VariantDetail,
  type VariantTreeNode,
} from './types.ts';

type Row = Record<string, any>;

const now = () => new Date().toISOString();
const toJson = (v: unknown) => JSON.stringify(v ?? null);
const fromJson = (s: string | null): unknown => (s == null ? null : JSON.parse(s));
const DEFAULT_LIMIT = 50;
const MAX_LIMIT = 1000;
const LOG_TAIL_LINES = 50;

const VARIANT_SELECT = `
  SELECT v.*, a.sha256 AS a_sha256, a.size AS a_size, a.gzip_size AS a_gzip_size, a.rel_path AS a_rel_path
  FROM variants v LEFT JOIN artifacts a ON a.id = v.artifact_id`;

/** Opens (creating and migrating as needed) the history in `dir` (default: the data folder). */
export function openHistory(dir: string = dataDir()): History {
  mkdirSync(dir, { recursive: true });
  const opened = openDatabase(join(dir, DB_FILE));
  return new History(opened.db, dir, opened.backupPath);
}

export class History {
  readonly artifactsDir: string;

  constructor(
    /** The raw connection, for tests and one-off maintenance; prefer the typed methods. */
    readonly db: Database.Database,
    readonly dir: string,
    /** The backup written before a migration at open, if any. */
    readonly backupPath: string | null = null,
  ) {
    this.artifactsDir = join(dir, 'artifacts');
    sweepTempFiles(this.artifactsDir);
  }

  close(): void {
    if (this.db.open) this.db.close();
  }

  /**
   * Runs fn in one transaction (nested calls become savepoints). BEGIN IMMEDIATE: the write lock is taken up front,
   * so another process or worker committing meanwhile makes us wait (busy_timeout) instead of failing with
   * "database is locked" when a deferred transaction's read snapshot goes stale before its first write.
   */
  transaction<T>(fn: () => T): T {
    return this.db.transaction(fn).immediate();
  }

  // ---- Models ---------------------------------------------------------------------------------------------

  addModel(m: NewModel): ModelSummary {
    const id = randomUUID();
    this.db
      .prepare(
        `INSERT INTO models (id, name, format, path, sha256, inputs_json, outputs_json, parameter_count, created_at)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      )
      .run(id, m.name, m.format, m.path, m.sha256, toJson(m.inputs ?? []), toJson(m.outputs ?? []), m.parameterCount ?? 0, now());
    return this.getModel(id);
  }

  getModel(id: string): ModelSummary {
    const row = this.db.prepare(`${MODEL_SELECT} WHERE m.id = ?`).get(id) as Row | undefined;
    if (!row) throw new HistoryError('NOT_FOUND', `No model with id ${id} in the history`);
    return mapModel(row);
  }

  /** The most recent model imported from a file with this content hash, if any (to avoid duplicates). */
  findModelBySha256(sha256: string): ModelSummary | null {
    const row = this.db.prepare(`${MODEL_SELECT} WHERE m.sha256 = ? ORDER BY m.created_at DESC LIMIT 1`).get(sha256) as Row | undefined;
    return row ? mapModel(row) : null;
  }

  listModels(args: HistoryListArgs = {}): { items: ModelSummary[]; total: number } {
    const where: string[] = [];
    const params: unknown[] = [];
    if (args.search) {
      where.push(`(m.name LIKE ? ESCAPE '\\' OR m.format LIKE ? ESCAPE '\\' OR m.path LIKE ? ESCAPE '\\')`);
      const like = likePattern(args.search);
      params.push(like, like, like);
    }
    const whereSql = where.length ? `WHERE ${where.join(' AND ')}` : '';
    const sortCol = { created: 'm.created_at', name: 'm.name COLLATE NOCASE', size: 'm.parameter_count' }[args.sort ?? 'created'];
    const dir = orderOf(args);
    const { limit, offset } = page(args);
    const items = this.db
      .prepare(`${MODEL_SELECT} ${whereSql} ORDER BY ${sortCol} ${dir}, m.rowid ${dir} LIMIT ? OFFSET ?`)
      .all(...params, limit, offset) as Row[];
    const total = (this.db.prepare(`SELECT COUNT(*) AS n FROM models m ${whereSql}`).get(...params) as Row).n;
    return { items: items.map(mapModel), total };
  }

  /** Deletes a model, all its variants and their now-unreferenced artifacts. */
  deleteModel(id: string): { deletedVariants: string[]; deletedArtifacts: string[] } {
    this.getModel(id);
    const removedFiles: string[] = [];
    const result = this.transaction(() => {
      const ids = (this.db.prepare('SELECT id FROM variants WHERE model_id = ?').all(id) as Row[]).map((r) => r.id as string);
      const deletedArtifacts = this.deleteVariantRows(ids, removedFiles);
      this.db.prepare('DELETE FROM models WHERE id = ?').run(id);
      return { deletedVariants: ids, deletedArtifacts };
    });
    for (const rel of removedFiles) removeArtifactFile(this.artifactsDir, rel);
    return result;
  }

  // ---- Datasets -------------------------------------------------------------------------------------------

  addDataset(d: NewDataset): DatasetRecord {
    const id = randomUUID();
    this.db
      .prepare(
        `INSERT INTO datasets (id, name, kind, location, sample_count, preprocessing_json, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)`,
      )
      .run(id, d.name ?? d.location, d.kind, d.location, d.sampleCount, toJson(d.preprocessing ?? {}), now());
    return this.getDataset(id);
  }

  getDataset(id: string): DatasetRecord {
    const row = this.db.prepare('SELECT * FROM datasets WHERE id = ?').get(id) as Row | undefined;
    if (!row) throw new HistoryError('NOT_FOUND', `No dataset with id ${id} in the history`);
    return mapDataset(row);
  }

  listDatasets(): DatasetRecord[] {
    return (this.db.prepare('SELECT * FROM datasets ORDER BY created_at DESC, rowid DESC').all() as Row[]).map(mapDataset);
  }

  // ---- Artifacts ------------------------------------------------------------------------------------------

  /**
   * Stores bytes or a file in the content-addressed store and records it (deduplicated by sha256). The file
   * is durable on disk before the row exists.
   */
  putArtifact(source: ArtifactSource, kind: string, ext = 'tflite'): ArtifactRecord {
    const id = this.storeArtifact({ source, kind, ext });
    return this.getArtifact(id);
  }

  getArtifact(id: string): ArtifactRecord {
    const row = this.db.prepare('SELECT * FROM artifacts WHERE id = ?').get(id) as Row | undefined;
    if (!row) throw new HistoryError('NOT_FOUND', `No artifact with id ${id} in the history`);
    return this.mapArtifact(row);
  }

  findArtifactBySha256(sha256: string): ArtifactRecord | null {
    const row = this.db.prepare('SELECT * FROM artifacts WHERE sha256 = ?').get(sha256) as Row | undefined;
    return row ? this.mapArtifact(row) : null;
  }

  /** Writes the file (outside any transaction: slow I/O), then inserts or finds the row. Returns the row id. */
  private storeArtifact(input: ArtifactInput): string {
    const file = writeArtifactFile(this.artifactsDir, input.source, input.ext ?? 'tflite');
    return this.transaction(() => {
      this.db
        .prepare(
          `INSERT INTO artifacts (id, sha256, kind, rel_path, size, gzip_size, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)
           ON CONFLICT(sha256) DO NOTHING`,
        )
        .run(randomUUID(), file.sha256, input.kind, file.relPath, file.size, file.gzipSize, now());
      return (this.db.prepare('SELECT id FROM artifacts WHERE sha256 = ?').get(file.sha256) as Row).id as string;
    });
  }

  /**
   * Removes files in the artifact store that no artifact row names (left by a crash between writing a file and
   * inserting its row, or by a delete interrupted before unlinking), and stale temp files. Only files older than
   * `olderThanMs`: a younger one may belong to a write in progress in another process.
   */
  collectGarbage(olderThanMs = 10 * 60_000): { removedFiles: string[]; freedBytes: number } {
    const known = new Set((this.db.prepare('SELECT rel_path FROM artifacts').all() as Row[]).map((r) => r.rel_path as string));
    const removedFiles: string[] = [];
    let freedBytes = 0;
    for (const f of listStoreFiles(this.artifactsDir)) {
      if (known.has(f.relPath) || Date.now() - f.mtimeMs < olderThanMs) continue;
      removeArtifactFile(this.artifactsDir, f.relPath);
      removedFiles.push(f.relPath);
      freedBytes += f.size;
    }
    return { removedFiles, freedBytes };
  }

  private mapArtifact(row: Row): ArtifactRecord {
    return {
      id: row.id,
      sha256: row.sha256,
      kind: row.kind,
      size: row.size,
      gzipSize: row.gzip_size,
      path: join(this.artifactsDir, row.rel_path),
      createdAt: row.created_at,
    };
  }

  // ---- Variants -------------------------------------------------------------------------------------------

  /**
   * Adds a variant with its artifact, metrics, benchmarks and reports. The artifact file is written first;
   * every row is then inserted in ONE transaction, so a crash leaves either the whole variant or none of it.
   */
  addVariant(v: NewVariant): VariantSummary {
    this.getModel(v.modelId);
    if (v.parentId) {
      const parent = this.db.prepare('SELECT model_id FROM variants WHERE id = ?').get(v.parentId) as Row | undefined;
      if (!parent) throw new HistoryError('NOT_FOUND', `Parent variant ${v.parentId} of "${v.name}" is not in the history`);
      if (parent.model_id !== v.modelId) {
        throw new HistoryError('INVALID_ARGUMENT', `Parent variant ${v.parentId} belongs to another model than "${v.name}" (${v.modelId})`);
      }
    }
    for (const m of v.metrics ?? []) checkMetric(m, v.name);
    let artifactId: string | null = null;
    if (v.artifact && 'artifactId' in v.artifact) artifactId = this.getArtifact(v.artifact.artifactId).id;
    else if (v.artifact) artifactId = this.storeArtifact(v.artifact);

    const id = randomUUID();
    this.transaction(() => {
      this.db
        .prepare(
          `INSERT INTO variants (id, model_id, parent_id, name, recipe_json, status, artifact_id, created_at)
           VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
        )
        .run(id, v.modelId, v.parentId ?? null, v.name, toJson(v.recipe ?? {}), v.status ?? 'ready', artifactId, now());
      this.insertMetrics(id, v.metrics ?? []);
      for (const b of v.benchmarks ?? []) this.insertBenchmark(id, b);
      for (const [kind, json] of Object.entries(v.reports ?? {})) this.upsertReport(id, kind, json);
    });
    return this.getVariant(id);
  }

  getVariant(id: string): VariantSummary {
    const row = this.db.prepare(`${VARIANT_SELECT} WHERE v.id = ?`).get(id) as Row | undefined;
    if (!row) throw new HistoryError('NOT_FOUND', `No variant with id ${id} in the history`);
    return this.mapVariants([row])[0];
  }

  /** The shape of the API's 'history.getVariant': the variant plus its ancestors (root first). */
  getVariantWithLineage(id: string): VariantSummary & { lineage: VariantSummary[] } {
    return { ...this.getVariant(id), lineage: this.lineage(id) };
  }

  /** A variant with its benchmarks and the kinds of reports stored for it. */
  getVariantDetail(id: string): VariantDetail {
    const v = this.getVariant(id);
    const benchmarks = (this.db.prepare('SELECT * FROM benchmarks WHERE variant_id = ? ORDER BY created_at, rowid').all(id) as Row[]).map(mapBenchmark);
    const reportKinds = (this.db.prepare('SELECT kind FROM variant_reports WHERE variant_id = ? ORDER BY kind').all(id) as Row[]).map((r) => r.kind as string);
    return { ...v, benchmarks, reportKinds };
  }

  setVariantStatus(id: string, status: string): VariantSummary {
    const info = this.db.prepare('UPDATE variants SET status = ? WHERE id = ?').run(status, id);
    if (info.changes === 0) throw new HistoryError('NOT_FOUND', `No variant with id ${id} in the history`);
    return this.getVariant(id);
  }

  /** Ancestors of a variant, root first, ending with its parent (empty for a variant made from the model). */
  lineage(id: string): VariantSummary[] {
    this.getVariant(id);
    const rows = this.db
      .prepare(
        `WITH RECURSIVE anc(id, depth) AS (
           SELECT parent_id, 1 FROM variants WHERE id = ? AND parent_id IS NOT NULL
           UNION ALL
           SELECT v.parent_id, anc.depth + 1 FROM variants v JOIN anc ON v.id = anc.id WHERE v.parent_id IS NOT NULL
         )
         ${VARIANT_SELECT} JOIN anc ON anc.id = v.id ORDER BY anc.depth DESC`,
      )
      .all(id) as Row[];
    return this.mapVariants(rows);
  }

  /** Every variant of a model as a forest: roots were made from the model itself, children from a variant. */
  variantTree(modelId: string): VariantTreeNode[] {
    this.getModel(modelId);
    const rows = this.db.prepare(`${VARIANT_SELECT} WHERE v.model_id = ? ORDER BY v.created_at, v.rowid`).all(modelId) as Row[];
    const nodes = this.mapVariants(rows).map((v): VariantTreeNode => ({ ...v, children: [] }));
    const byId = new Map(nodes.map((n) => [n.id, n]));
    const roots: VariantTreeNode[] = [];
    for (const n of nodes) {
      const parent = n.parentId ? byId.get(n.parentId) : undefined;
      (parent ? parent.children : roots).push(n);
    }
    return roots;
  }

  /** Search (name or recipe text), filter by model, sort (created, name, artifact size) and page. */
  listVariants(args: HistoryListArgs = {}): { items: VariantSummary[]; total: number } {
    const where: string[] = [];
    const params: unknown[] = [];
    if (args.modelId) {
      where.push('v.model_id = ?');
      params.push(args.modelId);
    }
    if (args.search) {
      where.push(`(v.name LIKE ? ESCAPE '\\' OR v.recipe_json LIKE ? ESCAPE '\\')`);
      const like = likePattern(args.search);
      params.push(like, like);
    }
    const whereSql = where.length ? `WHERE ${where.join(' AND ')}` : '';
    const sortCol = { created: 'v.created_at', name: 'v.name COLLATE NOCASE', size: 'a.size' }[args.sort ?? 'created'];
    const dir = orderOf(args);
    const { limit, offset } = page(args);
    const rows = this.db
      .prepare(`${VARIANT_SELECT} ${whereSql} ORDER BY ${sortCol} ${dir}, v.rowid ${dir} LIMIT ? OFFSET ?`)
      .all(...params, limit, offset) as Row[];
    const total = (this.db.prepare(`SELECT COUNT(*) AS n FROM variants v ${whereSql}`).get(...params) as Row).n;
    return { items: this.mapVariants(rows), total };
  }

  /** All variants of a model with their metrics, oldest first. */
  variantsOfModel(modelId: string): VariantSummary[] {
    this.getModel(modelId);
    const rows = this.db.prepare(`${VARIANT_SELECT} WHERE v.model_id = ? ORDER BY v.created_at, v.rowid`).all(modelId) as Row[];
    return this.mapVariants(rows);
  }

  /**
   * The best variant of a model for a goal, among variants with status 'ready' that meet the constraints, or
   * null when none does. Size = artifact bytes; latency = the lowest warm p50 over its benchmarks (optionally of
   * one runtime); accuracy = its highest value of the accuracy metric (optionally on one dataset).
   */
  bestVariant(q: BestVariantQuery): BestVariant | null {
    this.getModel(q.modelId);
    const metric = q.accuracyMetric ?? 'accuracy';
    const rows = this.db
      .prepare(
        `SELECT v.id, a.size AS size,
           (SELECT MAX(value) FROM metrics m WHERE m.variant_id = v.id AND m.name = @metric
              AND (@dataset IS NULL OR m.dataset_id = @dataset)) AS accuracy,
           (SELECT MIN(warm_p50_ms) FROM benchmarks b WHERE b.variant_id = v.id
              AND (@runtime IS NULL OR b.runtime = @runtime)) AS latency
         FROM variants v LEFT JOIN artifacts a ON a.id = v.artifact_id
         WHERE v.model_id = @model AND v.status = 'ready'`,
      )
      .all({ metric, dataset: q.datasetId ?? null, runtime: q.runtime ?? null, model: q.modelId }) as Row[];
    const accuracies = rows.map((r) => r.accuracy).filter((a): a is number => a != null);
    const baseline = q.baselineAccuracy ?? (accuracies.length ? Math.max(...accuracies) : null);
    const candidates = rows.filter((r) => {
      if (q.maxAccuracyDrop != null && (r.accuracy == null || baseline == null || baseline - r.accuracy > q.maxAccuracyDrop + 1e-12)) return false;
      if (q.maxSizeBytes != null && (r.size == null || r.size > q.maxSizeBytes)) return false;
      if (q.maxLatencyMs != null && (r.latency == null || r.latency > q.maxLatencyMs)) return false;
      return true;
    });
    const key = { size: (r: Row) => r.size, latency: (r: Row) => r.latency, accuracy: (r: Row) => (r.accuracy == null ? null : -r.accuracy) }[q.goal];
    let best: Row | null = null;
    for (const r of candidates) {
      const k = key(r);
      if (k == null) continue;
      if (!best || k < key(best)) best = r;
    }
    if (!best) return null;
    return { variant: this.getVariant(best.id), size: best.size, latencyMs: best.latency, accuracy: best.accuracy, baselineAccuracy: baseline };
  }

  /**
   * Deletes a variant (and, with `withDescendants`, every variant derived from it), its metrics, benchmarks and
   * reports, and the artifacts no remaining variant uses. Refuses (CONFLICT) when it has descendants and
   * `withDescendants` is not set. Files are removed only after the rows are gone, so no row ever names a
   * missing file.
   */
  deleteVariant(id: string, opts: { withDescendants?: boolean } = {}): { deletedVariants: string[]; deletedArtifacts: string[] } {
    this.getVariant(id);
    const removedFiles: string[] = [];
    const result = this.transaction(() => {
      const ids = (
        this.db
          .prepare(
            `WITH RECURSIVE sub(id) AS (SELECT ? UNION ALL SELECT v.id FROM variants v JOIN sub ON v.parent_id = sub.id) SELECT id FROM sub`,
          )
          .all(id) as Row[]
      ).map((r) => r.id as string);
      if (ids.length > 1 && !opts.withDescendants) {
        throw new HistoryError(
          'CONFLICT',
          `Variant ${id} has ${ids.length - 1} derived variant(s); delete them first or delete with descendants`,
        );
      }
      return { deletedVariants: ids, deletedArtifacts: this.deleteVariantRows(ids, removedFiles) };
    });
    for (const rel of removedFiles) removeArtifactFile(this.artifactsDir, rel);
    return result;
  }

  /** Inside a transaction: deletes the variants and their now-unreferenced artifact rows; collects file paths. */
  private deleteVariantRows(ids: string[], removedFiles: string[]): string[] {
    if (ids.length === 0) return [];
    const list = JSON.stringify(ids);
    const artifactIds = (
      this.db.prepare('SELECT DISTINCT artifact_id FROM variants WHERE id IN (SELECT value FROM json_each(?)) AND artifact_id IS NOT NULL').all(list) as Row[]
    ).map((r) => r.artifact_id as string);
    // One statement: foreign keys are checked at its end, so parent and child may go together.
    this.db.prepare('DELETE FROM variants WHERE id IN (SELECT value FROM json_each(?))').run(list);
    const deleted: string[] = [];
    for (const aid of artifactIds) {
      if (this.db.prepare('SELECT 1 FROM variants WHERE artifact_id = ? LIMIT 1').get(aid)) continue;
      const row = this.db.prepare('DELETE FROM artifacts WHERE id = ? RETURNING rel_path').get(aid) as Row;
      removedFiles.push(row.rel_path);
      deleted.push(aid);
    }
    return deleted;
  }

  // ---- Metrics, benchmarks, reports -----------------------------------------------------------------------

  addMetrics(variantId: string, metrics: NewMetric[]): MetricValue[] {
    const v = this.getVariant(variantId);
    for (const m of metrics) checkMetric(m, v.name);
    this.transaction(() => this.insertMetrics(variantId, metrics));
    return this.getVariant(variantId).metrics;
  }

  addBenchmark(variantId: string, b: NewBenchmark): BenchmarkRecord {
    this.getVariant(variantId);
    const id = this.insertBenchmark(variantId, b);
    return mapBenchmark(this.db.prepare('SELECT * FROM benchmarks WHERE id = ?').get(id) as Row);
  }

  benchmarksOf(variantId: string): BenchmarkRecord[] {
    return (this.db.prepare('SELECT * FROM benchmarks WHERE variant_id = ? ORDER BY created_at, rowid').all(variantId) as Row[]).map(mapBenchmark);
  }

  /**
   * Benchmarks and report kinds of many variants in two queries (results summaries over thousands of
   * variants); variants without any get empty lists.
   */
  benchmarksAndReportKinds(variantIds: string[]): Map<string, { benchmarks: BenchmarkRecord[]; reportKinds: string[] }> {
    const out = new Map(variantIds.map((id) => [id, { benchmarks: [] as BenchmarkRecord[], reportKinds: [] as string[] }]));
    const list = JSON.stringify(variantIds);
    const benchmarks = this.db.prepare('SELECT * FROM benchmarks WHERE variant_id IN (SELECT value FROM json_each(?)) ORDER BY created_at, rowid').all(list) as Row[];
    for (const b of benchmarks) out.get(b.variant_id)!.benchmarks.push(mapBenchmark(b));
    const kinds = this.db.prepare('SELECT variant_id, kind FROM variant_reports WHERE variant_id IN (SELECT value FROM json_each(?)) ORDER BY kind').all(list) as Row[];
    for (const k of kinds) out.get(k.variant_id)!.reportKinds.push(k.kind);
    return out;
  }

  /** Stores (or replaces) the variant's report of this kind. */
  putReport(variantId: string, kind: string, json: unknown): void {
    this.getVariant(variantId);
    this.upsertReport(variantId, kind, json);
  }

  getReport(variantId: string, kind: string): unknown {
    const row = this.db.prepare('SELECT json FROM variant_reports WHERE variant_id = ? AND kind = ?').get(variantId, kind) as Row | undefined;
    if (!row) throw new HistoryError('NOT_FOUND', `Variant ${variantId} has no "${kind}" report`);
    return JSON.parse(row.json);
  }

  private insertMetrics(variantId: string, metrics: NewMetric[]): void {
    const stmt = this.db.prepare('INSERT INTO metrics (variant_id, dataset_id, name, value, created_at) VALUES (?, ?, ?, ?, ?)');
    const t = now();
    for (const m of metrics) stmt.run(variantId, m.datasetId ?? null, m.name, m.value, t);
  }

  private insertBenchmark(variantId: string, b: NewBenchmark): string {
    const id = randomUUID();
    this.db
      .prepare(
        `INSERT INTO benchmarks (id, variant_id, device_id, runtime, cold_ms, warm_min_ms, warm_p50_ms, warm_p90_ms, warm_p99_ms, runs, environment_json, created_at)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      )
      .run(id, variantId, b.deviceId ?? null, b.runtime, b.coldMs ?? null, b.warmMinMs, b.warmP50Ms, b.warmP90Ms, b.warmP99Ms, b.runs, toJson(b.environment ?? {}), now());
    return id;
  }

  private upsertReport(variantId: string, kind: string, json: unknown): void {
    this.db
      .prepare(
        `INSERT INTO variant_reports (variant_id, kind, json, created_at) VALUES (?, ?, ?, ?)
         ON CONFLICT(variant_id, kind) DO UPDATE SET json = excluded.json, created_at = excluded.created_at`,
      )
      .run(variantId, kind, toJson(json), now());
  }

  // ---- Devices --------------------------------------------------------------------------------------------

  /**
   * Records that a device was seen: updates the known device with the same serial (or, without a serial, the
   * same kind and port path), else adds it. Returns the stored record.
   */
  recordDevice(s: DeviceSighting): DeviceRecord {
    const t = now();
    return this.transaction(() => {
      const existing = (
        s.serial
          ? this.db.prepare('SELECT id FROM devices WHERE serial = ?').get(s.serial)
          : this.db.prepare('SELECT id FROM devices WHERE serial IS NULL AND kind = ? AND port_path IS ?').get(s.kind, s.portPath ?? null)
      ) as Row | undefined;
      const id = existing?.id ?? randomUUID();
      if (existing) {
        this.db
          .prepare(
            `UPDATE devices SET kind = ?, port_path = ?, vendor_id = ?, product_id = ?, last_seen = ?, firmware_state = ?, link_speed = ? WHERE id = ?`,
          )
          .run(s.kind, s.portPath ?? null, s.vendorId ?? null, s.productId ?? null, t, s.firmwareState ?? null, s.linkSpeed ?? null, id);
      } else {
        this.db
          .prepare(
            `INSERT INTO devices (id, kind, serial, port_path, vendor_id, product_id, first_seen, last_seen, firmware_state, link_speed)
             VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
          )
          .run(id, s.kind, s.serial ?? null, s.portPath ?? null, s.vendorId ?? null, s.productId ?? null, t, t, s.firmwareState ?? null, s.linkSpeed ?? null);
      }
      return mapDevice(this.db.prepare('SELECT * FROM devices WHERE id = ?').get(id) as Row);
    });
  }

  listDevices(): DeviceRecord[] {
    return (this.db.prepare('SELECT * FROM devices ORDER BY last_seen DESC, rowid DESC').all() as Row[]).map(mapDevice);
  }

  // ---- Jobs (written by the JobRunner; read by the API) ----------------------------------------------------

  createJob(kind: string, params: unknown): JobRecord {
    const id = randomUUID();
    const t = now();
    this.db
      .prepare(`INSERT INTO jobs (id, kind, state, params_json, created_at, updated_at) VALUES (?, ?, 'queued', ?, ?, ?)`)
      .run(id, kind, toJson(params), t, t);
    return this.getJob(id);
  }

  getJob(id: string): JobRecord {
    const row = this.db.prepare('SELECT * FROM jobs WHERE id = ?').get(id) as Row | undefined;
    if (!row) throw new HistoryError('NOT_FOUND', `No job with id ${id} in the history`);
    return mapJob(row);
  }

  /** Jobs, newest first, optionally only in some states. */
  listJobs(opts: { states?: JobState[]; limit?: number } = {}): JobRecord[] {
    const states = opts.states?.length ? opts.states : null;
    const rows = this.db
      .prepare(
        `SELECT * FROM jobs WHERE (@states IS NULL OR state IN (SELECT value FROM json_each(@states)))
         ORDER BY created_at DESC, rowid DESC LIMIT @limit`,
      )
      .all({ states: states ? JSON.stringify(states) : null, limit: opts.limit ?? MAX_LIMIT }) as Row[];
    return rows.map(mapJob);
  }

  updateJob(id: string, patch: JobPatch): JobRecord {
    const sets: string[] = ['updated_at = @now'];
    const p: Record<string, unknown> = { id, now: now() };
    const col = (name: string, key: string, value: unknown) => {
      sets.push(`${name} = @${key}`);
      p[key] = value;
    };
    if (patch.state !== undefined) col('state', 'state', patch.state);
    if (patch.stage !== undefined) col('stage', 'stage', patch.stage);
    if (patch.progress !== undefined) col('progress', 'progress', Math.min(1, Math.max(0, patch.progress)));
    if (patch.message !== undefined) col('message', 'message', patch.message);
    if (patch.error !== undefined) col('error', 'error', patch.error);
    if (patch.errorCode !== undefined) col('error_code', 'errorCode', patch.errorCode);
    if (patch.logTail !== undefined) col('log_tail', 'logTail', patch.logTail.slice(-LOG_TAIL_LINES).join('\n'));
    if (patch.result !== undefined) col('result_json', 'result', toJson(patch.result));
    if (patch.checkpoint !== undefined) col('checkpoint_json', 'checkpoint', toJson(patch.checkpoint));
    if (patch.attempts !== undefined) col('attempts', 'attempts', patch.attempts);
    if (patch.heartbeat) sets.push('heartbeat_at = @now');
    const info = this.db.prepare(`UPDATE jobs SET ${sets.join(', ')} WHERE id = @id`).run(p);
    if (info.changes === 0) throw new HistoryError('NOT_FOUND', `No job with id ${id} in the history`);
    return this.getJob(id);
  }

  /**
   * Marks running/queued jobs whose heartbeat (or, never started, last update) is older than `staleBefore` as
   * 'interrupted': their process died. Returns them.
   */
  interruptStaleJobs(staleBefore: Date): JobRecord[] {
    const cutoff = staleBefore.toISOString();
    return this.transaction(() => {
      const rows = this.db
        .prepare(
          `UPDATE jobs SET state = 'interrupted', message = 'Interrupted: Edgewise stopped while this job was ' || state, updated_at = ?
           WHERE state IN ('running', 'queued') AND COALESCE(heartbeat_at, updated_at) < ?
           RETURNING *`,
        )
        .all(now(), cutoff) as Row[];
      return rows.map(mapJob);
    });
  }

  deleteJob(id: string): void {
    this.db.prepare('DELETE FROM jobs WHERE id = ?').run(id);
  }

  // ---- Row mapping ----------------------------------------------------------------------------------------

  /** Maps variant rows (from VARIANT_SELECT) and attaches their metrics with one query. */
  private mapVariants(rows: Row[]): VariantSummary[] {
    if (rows.length === 0) return [];
    const metrics = new Map<string, MetricValue[]>();
    const mrows = this.db
      .prepare('SELECT variant_id, name, value, dataset_id FROM metrics WHERE variant_id IN (SELECT value FROM json_each(?)) ORDER BY id')
      .all(JSON.stringify(rows.map((r) => r.id))) as Row[];
    for (const m of mrows) {
      const list = metrics.get(m.variant_id) ?? [];
      list.push({ name: m.name, value: m.value, datasetId: m.dataset_id });
      metrics.set(m.variant_id, list);
    }
    return rows.map((r) => ({
      id: r.id,
      modelId: r.model_id,
      parentId: r.parent_id,
      name: r.name,
      recipe: fromJson(r.recipe_json),
      status: r.status,
      createdAt: r.created_at,
      artifact:
        r.a_sha256 == null
          ? null
          : { sha256: r.a_sha256, size: r.a_size, gzipSize: r.a_gzip_size, path: join(this.artifactsDir, r.a_rel_path) },
      metrics: metrics.get(r.id) ?? [],
    }));
  }
}

const MODEL_SELECT = `SELECT m.*, (SELECT COUNT(*) FROM variants v WHERE v.model_id = m.id) AS variant_count FROM models m`;

function mapModel(r: Row): ModelSummary {
  return {
    id: r.id,
    name: r.name,
    format: r.format,
    path: r.path,
    sha256: r.sha256,
    parameterCount: r.parameter_count,
    inputs: fromJson(r.inputs_json),
    outputs: fromJson(r.outputs_json),
    createdAt: r.created_at,
    variantCount: r.variant_count,
  };
}

function mapDataset(r: Row): DatasetRecord {
  return {
    id: r.id,
    name: r.name,
    kind: r.kind,
    location: r.location,
    sampleCount: r.sample_count,
    preprocessing: fromJson(r.preprocessing_json),
    createdAt: r.created_at,
  };
}

function mapBenchmark(r: Row): BenchmarkRecord {
  return {
    id: r.id,
    variantId: r.variant_id,
    deviceId: r.device_id,
    runtime: r.runtime,
    coldMs: r.cold_ms,
    warmMinMs: r.warm_min_ms,
    warmP50Ms: r.warm_p50_ms,
    warmP90Ms: r.warm_p90_ms,
    warmP99Ms: r.warm_p99_ms,
    runs: r.runs,
    environment: fromJson(r.environment_json) as Record<string, unknown>,
    createdAt: r.created_at,
  };
}

function mapDevice(r: Row): DeviceRecord {
  return {
    id: r.id,
    kind: r.kind,
    serial: r.serial,
    portPath: r.port_path,
    vendorId: r.vendor_id,
    productId: r.product_id,
    firstSeen: r.first_seen,
    lastSeen: r.last_seen,
    firmwareState: r.firmware_state,
    linkSpeed: r.link_speed,
  };
}

function mapJob(r: Row): JobRecord {
  const summary: JobSummary = {
    id: r.id,
    kind: r.kind,
    state: r.state,
    stage: r.stage,
    progress: r.progress,
    message: r.message,
    error: r.error,
    createdAt: r.created_at,
    updatedAt: r.updated_at,
    params: fromJson(r.params_json),
    result: fromJson(r.result_json),
  };
  return {
    ...summary,
    heartbeatAt: r.heartbeat_at,
    logTail: r.log_tail ? String(r.log_tail).split('\n') : [],
    errorCode: r.error_code,
    checkpoint: fromJson(r.checkpoint_json),
    attempts: r.attempts,
  };
}

/** Drops the runner-only fields, for callers that promise exactly a JobSummary. */
export function toJobSummary(j: JobRecord): JobSummary {
  const { heartbeatAt: _h, logTail: _l, errorCode: _e, checkpoint: _c, attempts: _a, ...summary } = j;
  return summary;
}

function checkMetric(m: NewMetric, variantName: string): void {
  if (!m.name) throw new HistoryError('INVALID_ARGUMENT', `A metric of variant "${variantName}" has no name`);
  if (typeof m.value !== 'number' || !Number.isFinite(m.value)) {
    throw new HistoryError('INVALID_ARGUMENT', `Metric "${m.name}" of variant "${variantName}" is not a finite number (${m.value})`);
  }
}

function likePattern(search: string): string {
  return `%${search.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
}

function orderOf(args: HistoryListArgs): 'ASC' | 'DESC' {
  // Newest first by default; names read A→Z by default.
  const def = args.sort === 'name' ? 'asc' : 'desc';
  return (args.order ?? def) === 'asc' ? 'ASC' : 'DESC';
}

function page(args: HistoryListArgs): { limit: number; offset: number } {
  const limit = Math.min(MAX_LIMIT, Math.max(1, Math.floor(args.limit ?? DEFAULT_LIMIT)));
  const offset = Math.max(0, Math.floor(args.offset ?? 0));
  return { limit, offset };
}
