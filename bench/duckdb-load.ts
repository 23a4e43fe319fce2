/**
 * bench/duckdb-load — duckdb_local's load through the whole Tau path against DuckDB in plain Node, same run.
 *
 *   append: 1M rows {id, name, amount, day}
 *     baseline  plain Node: DuckDB's appender straight into the table (one connection, no Tau)
 *     bridge    a pipeline in a real executor sends the rows in batches of --batch through the bridge
 *               (db.load(batch): the columnar row transport, docs/bridge-protocol.md "connector.load"); only
 *               the load calls are timed, not building the rows in the isolate
 *     host      the connector alone: the same batches as the columnar batches the bridge hands it (encoded and
 *               decoded outside the timing) through loadFrom, one load per batch — the bridge figure minus
 *               the transport
 *     copy      a pipeline copies the same 1M rows from another DuckDB file with a query handle (host side;
 *               DuckDB → DuckDB goes chunk by chunk, runtime/connectors/duckdb-copy.ts)
 *   upsert: 1M rows (500k updates, 500k new keys) into a 1M-row table with a primary key on id
 *     baseline  plain Node: appender into a temp table, then one INSERT … ON CONFLICT (id) DO UPDATE
 *     copy      a pipeline upserts from a query handle (one staging + one merge, like the baseline)
 *     bridge    a pipeline upserts the rows in batches through the bridge (one merge per batch)
 *     host      the connector alone, the same batches through loadFrom
 *
 *   npm run build && node --no-node-snapshot dist/bench/duckdb-load.js [--rows 1000000] [--batch 100000] [--repeat 3]
 *   (or: npx tsx bench/duckdb-load.ts --executor <executor.js> --runtime <runtime.js> for an unbuilt tree)
 *
 * Targets (from the issue, not asserted anywhere): append ≥ 70% of the baseline's rows/s, upsert ≥ 50%.
 */
import { DuckDBDataChunkWriter, DuckDBInstance, JSToDuckDBValueConverter } from "@duckdb/node-api";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import { LOCAL_POLICY } from "../policies";
import { DuckDbInstanceCache } from "../runtime/connectors/duckdb-instances";
import { DuckDbLocalDriver } from "../runtime/connectors/duckdb-local";
import { columnSource } from "../runtime/connectors/column-batch";
import { oneBatch } from "../runtime/connectors/rows";
import type { LoadingConnector } from "../runtime/connectors/types";
import { encodeRowBatch } from "../runtime/sdk/row-batch";
import { decodeRowBatch } from "../sandbox/executor/row-batch";
import { compilePipeline } from "../sandbox/compile";
import { ExecutorPool } from "../sandbox/pool";

const arg = (name: string): string | undefined => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? process.argv[i + 1] : undefined;
};
const ROWS = Number(arg("rows") ?? 1_000_000);
const BATCH = Number(arg("batch") ?? 100_000);
/** Each figure is the fastest of this many rounds (a shared machine's noise only ever slows a round down). */
const REPEAT = Number(arg("repeat") ?? 3);

// The same values the pipelines build ("2024-01-DD" strings there), as the appender takes them in plain Node.
const DAYS = Array.from({ length: 28 }, (_, d) => new Date(Date.UTC(2024, 0, d + 1)));
const row = (i: number): [number, string, number, Date] => [i, `customer ${i}`, (i % 1000) / 7, DAYS[i % 28]];
const TABLE_DDL = "(id BIGINT PRIMARY KEY, name VARCHAR, amount DOUBLE, day DATE)";

// ── plain Node baselines ──────────────────────────────────────────────────────────────────────────────

async function plainAppend(path: string, table: string, from: number, count: number, create: string): Promise<number> {
  const instance = await DuckDBInstance.create(path);
  const c = await instance.connect();
  try {
    await c.run(create);
    const t0 = performance.now();
    const appender = await c.createAppender(table);
    const writer = DuckDBDataChunkWriter.forAppender(appender, { converter: JSToDuckDBValueConverter });
    for (let i = from; i < from + count; i++) writer.appendRow(row(i));
    writer.flush();
    appender.closeSync();
    return performance.now() - t0;
  } finally {
    c.closeSync();
    instance.closeSync();
  }
}

async function plainUpsert(path: string, from: number, count: number): Promise<number> {
  const instance = await DuckDBInstance.create(path);
  const c = await instance.connect();
  try {
    const t0 = performance.now();
    await c.run("CREATE TEMP TABLE stage (id BIGINT, name VARCHAR, amount DOUBLE, day DATE)");
    const appender = await c.createAppender("stage", "main", "temp");
    const writer = DuckDBDataChunkWriter.forAppender(appender, { converter: JSToDuckDBValueConverter });
    for (let i = from; i < from + count; i++) writer.appendRow(row(i));
    writer.flush();
    appender.closeSync();
    await c.run("BEGIN");
    await c.run("INSERT INTO t (id, name, amount, day) SELECT id, name, amount, day FROM temp.main.stage ON CONFLICT (id) DO UPDATE SET name = EXCLUDED.name, amount = EXCLUDED.amount, day = EXCLUDED.day");
    await c.run("COMMIT");
    return performance.now() - t0;
  } finally {
    c.closeSync();
    instance.closeSync();
  }
}

async function sql(path: string, statement: string): Promise<unknown[][]> {
  const instance = await DuckDBInstance.create(path);
  const c = await instance.connect();
  try {
    return (await c.runAndReadAll(statement)).getRows() as unknown[][];
  } finally {
    c.closeSync();
    instance.closeSync();
  }
}

/**
 * The connector alone: --batch rows at a time through loadFrom, as the bridge hands them over — a columnar
 * batch decoded from the columnar transport's text (the default), or row objects parsed from JSON (`rows`:
 * the row transport, still used for rows that do not fit the columnar shape). Only the loads are timed.
 */
async function hostLoad(dataDir: string, file: string, mode: "append" | "upsert", from: number, form: "columns" | "rows" = "columns"): Promise<number> {
  const instances = new DuckDbInstanceCache();
  const db = (await new DuckDbLocalDriver(instances).open({ path: file }, { dataDir, policy: LOCAL_POLICY, limits: LOCAL_POLICY.limits })) as LoadingConnector;
  try {
    let ms = 0;
    for (let start = from; start < from + ROWS; start += BATCH) {
      const batch: Record<string, unknown>[] = [];
      for (let i = start; i < Math.min(start + BATCH, from + ROWS); i++) {
        batch.push({ id: i, name: `customer ${i}`, amount: (i % 1000) / 7, day: `2024-01-${String((i % 28) + 1).padStart(2, "0")}` });
      }
      const request = { table: "t", mode, mergeKey: mode === "upsert" ? ["id"] : null };
      const source =
        form === "columns"
          ? columnSource(decodeRowBatch(encodeRowBatch("h1", request, batch) ?? "", { maxBytes: LOCAL_POLICY.limits.bridgeBytes, maxDepth: LOCAL_POLICY.limits.jsonDepth }).batch)
          : oneBatch(JSON.parse(JSON.stringify(batch)) as Record<string, unknown>[]); // objects as the bridge parses them
      const t0 = performance.now();
      await db.loadFrom(source, request);
      ms += performance.now() - t0;
    }
    return ms;
  } finally {
    await db.close();
    instances.closeAll();
  }
}

// ── the Tau path ──────────────────────────────────────────────────────────────────────────────────────

const bridgePipeline = (file: string, table: string, mode: string, from: number): string => `
import { pipeline } from "tau";
import { duckdb_local } from "tau/connectors";
export default pipeline({ name: "bench_load" }, async () => {
  await using db = duckdb_local(${JSON.stringify(file)});
  let ms = 0;
  for (let start = ${from}; start < ${from + ROWS}; start += ${BATCH}) {
    const batch = [];
    for (let i = start; i < Math.min(start + ${BATCH}, ${from + ROWS}); i++) {
      batch.push({ id: i, name: "customer " + i, amount: (i % 1000) / 7, day: "2024-01-" + String((i % 28) + 1).padStart(2, "0") });
    }
    const t0 = Date.now();
    await db.load(batch, ${mode === "upsert" ? `{ table: "${table}", mode: "upsert", mergeKey: "id" }` : `{ table: "${table}" }`});
    ms += Date.now() - t0;
  }
  return { ms };
});
`;

const copyPipeline = (source: string, target: string, query: string, table: string, mode: string): string => `
import { pipeline } from "tau";
import { duckdb_local } from "tau/connectors";
export default pipeline({ name: "bench_copy" }, async () => {
  await using src = duckdb_local(${JSON.stringify(source)});
  await using dst = duckdb_local(${JSON.stringify(target)});
  const t0 = Date.now();
  const n = await dst.load(src.query(${JSON.stringify(query)}), ${mode === "upsert" ? `{ table: "${table}", mode: "upsert", mergeKey: "id" }` : `{ table: "${table}" }`});
  return { ms: Date.now() - t0, n };
});
`;

async function runPipeline(pool: ExecutorPool, dataDir: string, source: string): Promise<{ ms: number }> {
  const compiled = await compilePipeline({ source, filename: "bench.ts", typecheck: false });
  const outcome = await pool.run(
    {
      runId: `bench-${Date.now()}-${Math.random()}`,
      tenantId: "local",
      pipeline: "bench",
      version: 1,
      filename: "bench.ts",
      bundle: compiled.bundle,
      sourceMap: compiled.sourceMap,
      params: {},
      lastSuccessfulRun: null,
      timeoutSec: null,
      policy: LOCAL_POLICY,
      dataDir,
    },
    () => undefined,
  );
  if (outcome.status !== "succeeded") throw new Error(`bench run failed: ${JSON.stringify(outcome.error)}`);
  return outcome.result as { ms: number };
}

const rate = (ms: number): number => Math.round(ROWS / (ms / 1000));

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), "tau-bench-duckdb-"));
  const executorPath = arg("executor");
  const runtime = arg("runtime");
  const pool = new ExecutorPool({
    size: 1,
    ...(executorPath ? { executorPath } : {}),
    env: runtime ? { ...process.env, TAU_GUEST_RUNTIME: runtime } : process.env,
  });
  await pool.start();
  try {
    const create = `CREATE TABLE t ${TABLE_DDL}`;
    // Warm-up: JIT, DuckDB, the executor.
    await plainAppend(join(dir, "warm.duckdb"), "t", 0, 50_000, create);
    await runPipeline(pool, dir, copyPipeline("warm.duckdb", "warm2.duckdb", "SELECT * FROM t", "t", "append"));

    const best = { baseAppend: Infinity, bridgeAppend: Infinity, hostAppend: Infinity, copyAppend: Infinity, baseUpsert: Infinity, copyUpsert: Infinity, bridgeUpsert: Infinity, hostUpsert: Infinity };
    const half = Math.floor(ROWS / 2);
    await plainAppend(join(dir, "source.duckdb"), "t", 0, ROWS, create);
    await plainAppend(join(dir, "upsert-source.duckdb"), "t", half, ROWS, create);
    for (let round = 0; round < REPEAT; round++) {
      const f = (name: string): string => `${name}-${round}.duckdb`;
      // append: into an empty table
      best.baseAppend = Math.min(best.baseAppend, await plainAppend(join(dir, f("base-append")), "t", 0, ROWS, create));
      await sql(join(dir, f("bridge-append")), create);
      best.bridgeAppend = Math.min(best.bridgeAppend, (await runPipeline(pool, dir, bridgePipeline(f("bridge-append"), "t", "append", 0))).ms);
      await sql(join(dir, f("host-append")), create);
      best.hostAppend = Math.min(best.hostAppend, await hostLoad(dir, f("host-append"), "append", 0));
      await sql(join(dir, f("copy-append")), create);
      best.copyAppend = Math.min(best.copyAppend, (await runPipeline(pool, dir, copyPipeline("source.duckdb", f("copy-append"), "SELECT * FROM t", "t", "append"))).ms);
      for (const name of ["bridge-append", "host-append", "copy-append"]) {
        const [[n]] = await sql(join(dir, f(name)), "SELECT count(*) FROM t");
        if (Number(n) !== ROWS) throw new Error(`${name}: ${n} rows, expected ${ROWS}`);
      }
      // upsert: 1M rows into a 1M-row table, half of them existing keys
      for (const name of ["base-upsert", "copy-upsert", "bridge-upsert", "host-upsert"]) await plainAppend(join(dir, f(name)), "t", 0, ROWS, create);
      best.baseUpsert = Math.min(best.baseUpsert, await plainUpsert(join(dir, f("base-upsert")), half, ROWS));
      best.copyUpsert = Math.min(best.copyUpsert, (await runPipeline(pool, dir, copyPipeline("upsert-source.duckdb", f("copy-upsert"), "SELECT * FROM t", "t", "upsert"))).ms);
      best.bridgeUpsert = Math.min(best.bridgeUpsert, (await runPipeline(pool, dir, bridgePipeline(f("bridge-upsert"), "t", "upsert", half))).ms);
      best.hostUpsert = Math.min(best.hostUpsert, await hostLoad(dir, f("host-upsert"), "upsert", half));
      for (const name of ["base-upsert", "copy-upsert", "bridge-upsert", "host-upsert"]) {
        const [[n]] = await sql(join(dir, f(name)), "SELECT count(*) FROM t");
        if (Number(n) !== ROWS + half) throw new Error(`${name}: ${n} rows, expected ${ROWS + half}`);
      }
      for (const name of ["base-append", "bridge-append", "host-append", "copy-append", "base-upsert", "copy-upsert", "bridge-upsert", "host-upsert"]) rmSync(join(dir, f(name)), { force: true });
    }
    const { baseAppend: baseAppendMs, bridgeAppend: bridgeAppendMs, hostAppend: hostAppendMs, copyAppend: copyAppendMs, baseUpsert: baseUpsertMs, copyUpsert: copyUpsertMs, bridgeUpsert: bridgeUpsertMs, hostUpsert: hostUpsertMs } = best;

    const report = {
      bench: "duckdb-load",
      rows: ROWS,
      batch: BATCH,
      repeat: REPEAT,
      append: {
        baselineRowsPerSec: rate(baseAppendMs),
        bridgeRowsPerSec: rate(bridgeAppendMs),
        hostRowsPerSec: rate(hostAppendMs),
        copyRowsPerSec: rate(copyAppendMs),
        bridgeRatio: +(baseAppendMs / bridgeAppendMs).toFixed(2),
        hostRatio: +(baseAppendMs / hostAppendMs).toFixed(2),
        copyRatio: +(baseAppendMs / copyAppendMs).toFixed(2),
        target: 0.7,
      },
      upsert: {
        baselineRowsPerSec: rate(baseUpsertMs),
        copyRowsPerSec: rate(copyUpsertMs),
        bridgeRowsPerSec: rate(bridgeUpsertMs),
        hostRowsPerSec: rate(hostUpsertMs),
        copyRatio: +(baseUpsertMs / copyUpsertMs).toFixed(2),
        bridgeRatio: +(baseUpsertMs / bridgeUpsertMs).toFixed(2),
        hostRatio: +(baseUpsertMs / hostUpsertMs).toFixed(2),
        target: 0.5,
      },
    };
    process.stderr.write(
      `append ${ROWS} rows: plain appender ${rate(baseAppendMs)} rows/s | Tau bridge (batches of ${BATCH}) ${rate(bridgeAppendMs)} rows/s = ${report.append.bridgeRatio}× | connector alone ${rate(hostAppendMs)} rows/s = ${report.append.hostRatio}× | Tau host copy ${rate(copyAppendMs)} rows/s = ${report.append.copyRatio}× (target ≥ 0.7×)\n` +
        `upsert ${ROWS} rows into ${ROWS}: plain statements ${rate(baseUpsertMs)} rows/s | Tau host copy ${rate(copyUpsertMs)} rows/s = ${report.upsert.copyRatio}× | Tau bridge ${rate(bridgeUpsertMs)} rows/s = ${report.upsert.bridgeRatio}× | connector alone ${rate(hostUpsertMs)} rows/s = ${report.upsert.hostRatio}× (target ≥ 0.5×)\n`,
    );
    process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
  } finally {
    await pool.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((err) => {
  process.stderr.write(`${(err as Error).stack ?? String(err)}\n`);
  process.exit(1);
});
