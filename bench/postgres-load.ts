/**
 * bench/postgres-load — the postgres connector's bulk paths against PostgreSQL's own tools, in one run.
 *
 *   1. append: 1M rows (6 columns) through the host driver (`loadFrom`, COPY FROM STDIN) vs `psql \copy` of
 *      the same rows from a CSV file. Target ≥ 70% of psql's rows/s.
 *   2. upsert: 1M rows (half new, half updates) into a 1M-row table vs psql doing the same staging + merge
 *      (`\copy` into a temp table, `INSERT … ON CONFLICT DO UPDATE`). Target ≥ 50%.
 *   3. extract: 100k rows into the isolate through the real sandbox (ExecutorPool, compiled pipeline) vs plain
 *      `pg` in Node (connect, query, end). Target ≤ 1.5× its time.
 *   4. host-side copy: 1M rows PostgreSQL → PostgreSQL through the sandbox (`wh.load(src.query(…))`) vs
 *      `psql \copy (…) TO STDOUT | psql \copy … FROM STDIN`.
 *
 *   npm run build && node --no-node-snapshot dist/bench/postgres-load.js [--rows 1000000] [--extract 100000]
 *
 * Needs PostgreSQL at 127.0.0.1:5432 (database `test`, user `postgres`, trust auth) and `psql` on PATH.
 * Works in the schema `tau_bench_pg`, dropped at the end. Prints a JSON report on stdout.
 */
import { execFileSync, execSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import { Client } from "pg";
import { DEFAULT_LIMITS, LOCAL_POLICY } from "../policies";
import { PostgresDriver, type PgConnector } from "../runtime/connectors/postgres";
import type { RowSource } from "../runtime/connectors/types";
import { compilePipeline } from "../sandbox/compile";
import { ExecutorPool } from "../sandbox/pool";
import type { RunJob } from "../sandbox/types";

const arg = (name: string, fallback: number): number => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : fallback;
};
const ROWS = arg("rows", 1_000_000);
const EXTRACT_ROWS = arg("extract", 100_000);
const SCHEMA = "tau_bench_pg";
const CONN = { host: "127.0.0.1", port: 5432, database: "test", user: "postgres" };
const PSQL = ["-h", "127.0.0.1", "-U", "postgres", "-d", "test", "-v", "ON_ERROR_STOP=1", "-q"];
process.env.PGOPTIONS = "-c client_min_messages=warning";

type Row = { id: number; name: string; amount: number; active: boolean; day: string; note: string | null };

function makeRows(n: number, idOffset = 0): Row[] {
  const rows: Row[] = new Array(n);
  for (let i = 0; i < n; i++) {
    const id = i + idOffset;
    rows[i] = {
      id,
      name: `customer ${id}`,
      amount: Math.round(id * 7.31) / 100,
      active: id % 3 !== 0,
      day: `2024-${String((id % 12) + 1).padStart(2, "0")}-${String((id % 28) + 1).padStart(2, "0")}`,
      note: id % 10 === 0 ? null : `note for ${id}, with "quotes"`,
    };
  }
  return rows;
}

function csv(rows: Row[]): string {
  const q = (s: string): string => (/[",\n\r]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s);
  const parts: string[] = [];
  for (const r of rows) parts.push(`${r.id},${q(r.name)},${r.amount},${r.active},${r.day},${r.note === null ? "" : q(r.note)}\n`);
  return parts.join("");
}

function batches(rows: Row[], size = 50_000): RowSource {
  return {
    async *[Symbol.asyncIterator]() {
      for (let i = 0; i < rows.length; i += size) yield rows.slice(i, i + size);
    },
  };
}

const psql = (sql: string): void => {
  execFileSync("psql", [...PSQL, "-c", sql], { stdio: ["ignore", "ignore", "inherit"] });
};
const time = async (fn: () => Promise<unknown> | unknown): Promise<number> => {
  const t0 = performance.now();
  await fn();
  return (performance.now() - t0) / 1000;
};
const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const rate = (rows: number, sec: number): number => Math.round(rows / sec);

const TABLE_DDL = "(id bigint, name text, amount double precision, active boolean, day date, note text)";

async function main(): Promise<void> {
  const tmp = mkdtempSync(join(tmpdir(), "tau-bench-pg-"));
  const admin = new Client(CONN);
  await admin.connect();
  const pool = new ExecutorPool({ size: 1, onStderr: () => undefined });
  try {
    await admin.query(`DROP SCHEMA IF EXISTS ${SCHEMA} CASCADE`);
    await admin.query(`CREATE SCHEMA ${SCHEMA}`);
    const ctx = { dataDir: tmp, policy: LOCAL_POLICY, limits: DEFAULT_LIMITS };
    const driver = new PostgresDriver();
    const db = (await driver.open(CONN, ctx)) as PgConnector;

    // ── 1. append ────────────────────────────────────────────────────────────────────────────────
    const rows = makeRows(ROWS);
    const file = join(tmp, "rows.csv");
    writeFileSync(file, csv(rows));
    const appendPsql: number[] = [];
    const appendTau: number[] = [];
    for (let round = 0; round < 2; round++) {
      psql(`DROP TABLE IF EXISTS ${SCHEMA}.psql_append; CREATE TABLE ${SCHEMA}.psql_append ${TABLE_DDL}`);
      appendPsql.push(await time(() => psql(`\\copy ${SCHEMA}.psql_append FROM '${file}' CSV`)));
      await admin.query(`DROP TABLE IF EXISTS ${SCHEMA}.tau_append`);
      appendTau.push(await time(() => db.loadFrom(batches(rows), { table: `${SCHEMA}.tau_append`, mode: "append", mergeKey: null })));
    }
    const append = { psqlRowsPerSec: rate(ROWS, median(appendPsql)), tauRowsPerSec: rate(ROWS, median(appendTau)) };

    // ── 2. upsert ────────────────────────────────────────────────────────────────────────────────
    const upsertRows = makeRows(ROWS, Math.floor(ROWS / 2)).map((r) => ({ ...r, name: `${r.name} v2` }));
    const upsertFile = join(tmp, "upsert.csv");
    writeFileSync(upsertFile, csv(upsertRows));
    const resetTarget = async (name: string): Promise<void> => {
      await admin.query(`DROP TABLE IF EXISTS ${SCHEMA}.${name}`);
      await admin.query(`CREATE TABLE ${SCHEMA}.${name} ${TABLE_DDL.replace("id bigint", "id bigint PRIMARY KEY")}`);
      await admin.query(`INSERT INTO ${SCHEMA}.${name} SELECT * FROM ${SCHEMA}.psql_append`);
      await admin.query(`VACUUM ANALYZE ${SCHEMA}.${name}`);
      await admin.query("CHECKPOINT");
    };
    const upsertPsql: number[] = [];
    const upsertTau: number[] = [];
    const mergeSql =
      `INSERT INTO ${SCHEMA}.psql_upsert SELECT * FROM stage ON CONFLICT (id) DO UPDATE SET ` +
      "name = EXCLUDED.name, amount = EXCLUDED.amount, active = EXCLUDED.active, day = EXCLUDED.day, note = EXCLUDED.note";
    const psqlUpsertScript = join(tmp, "upsert.sql");
    writeFileSync(
      psqlUpsertScript,
      `BEGIN;\nCREATE TEMP TABLE stage (LIKE ${SCHEMA}.psql_upsert) ON COMMIT DROP;\n\\copy stage FROM '${upsertFile}' CSV\n${mergeSql};\nCOMMIT;\n`,
    );
    for (let round = 0; round < 2; round++) {
      await resetTarget("psql_upsert");
      upsertPsql.push(await time(() => execFileSync("psql", [...PSQL, "-f", psqlUpsertScript], { stdio: ["ignore", "ignore", "inherit"] })));
      await resetTarget("tau_upsert");
      upsertTau.push(await time(() => db.loadFrom(batches(upsertRows), { table: `${SCHEMA}.tau_upsert`, mode: "upsert", mergeKey: ["id"] })));
    }
    const check = await admin.query(`SELECT count(*)::int AS n, count(*) FILTER (WHERE name LIKE '% v2')::int AS updated FROM ${SCHEMA}.tau_upsert`);
    if (check.rows[0].n !== ROWS + Math.floor(ROWS / 2) || check.rows[0].updated !== ROWS) throw new Error(`upsert result wrong: ${JSON.stringify(check.rows[0])}`);
    const upsert = { psqlRowsPerSec: rate(ROWS, median(upsertPsql)), tauRowsPerSec: rate(ROWS, median(upsertTau)) };
    await db.close();

    // ── 3. extract into the isolate ──────────────────────────────────────────────────────────────
    await pool.start();
    const extractSql = `SELECT * FROM ${SCHEMA}.psql_append LIMIT ${EXTRACT_ROWS}`;
    type Compiled = Awaited<ReturnType<typeof compilePipeline>>;
    // Deploy-time work (compiling the file) is done once, outside the timings, as taud does at deploy.
    const compile = (body: string): Promise<Compiled> => {
      const source = `import { pipeline } from "tau";\nimport { postgres } from "tau/connectors";\nexport default pipeline({ name: "bench" }, async (ctx) => {\n${body}\n});\n`;
      return compilePipeline({ source, filename: "bench.ts", typecheck: false });
    };
    const runPipeline = async (compiled: Compiled): Promise<unknown> => {
      const job: RunJob = {
        runId: `bench-${Math.random().toString(36).slice(2)}`,
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
        dataDir: tmp,
      };
      const outcome = await pool.run(job, () => undefined);
      if (outcome.status !== "succeeded") throw new Error(`bench pipeline failed: ${JSON.stringify(outcome)}`);
      return outcome.result;
    };
    const extractBody = `await using db = postgres({ host: "127.0.0.1", database: "test", user: "postgres" });
const rows = await db.extract(${JSON.stringify(extractSql)});
let sum = 0; for (const r of rows) sum += r.amount;
return { n: rows.length, sum };`;
    const extractPipeline = await compile(extractBody);
    const plainPg = async (): Promise<void> => {
      const c = new Client(CONN);
      await c.connect();
      const r = await c.query(extractSql);
      let sum = 0;
      for (const row of r.rows) sum += row.amount;
      if (r.rows.length !== EXTRACT_ROWS || !(sum > 0)) throw new Error("plain pg extract wrong");
      await c.end();
    };
    for (let i = 0; i < 2; i++) {
      await plainPg();
      await runPipeline(extractPipeline);
    }
    const extractPg: number[] = [];
    const extractTau: number[] = [];
    for (let i = 0; i < 7; i++) {
      extractPg.push(await time(plainPg));
      extractTau.push(await time(() => runPipeline(extractPipeline)));
    }
    const extract = { plainPgMs: Math.round(median(extractPg) * 1000), tauMs: Math.round(median(extractTau) * 1000) };

    // ── 4. host-side copy PostgreSQL → PostgreSQL ────────────────────────────────────────────────
    const copyPsql: number[] = [];
    const copyTau: number[] = [];
    const copyBody = `await using src = postgres({ host: "127.0.0.1", database: "test", user: "postgres" });
await using dst = postgres({ dsn: "postgres://postgres@127.0.0.1:5432/test" });
return { copied: await dst.load(src.query("SELECT * FROM ${SCHEMA}.psql_append"), { table: "${SCHEMA}.tau_copy", mode: "append" }) };`;
    const copyPipeline = await compile(copyBody);
    for (let round = 0; round < 2; round++) {
      psql(`DROP TABLE IF EXISTS ${SCHEMA}.psql_copy; CREATE TABLE ${SCHEMA}.psql_copy ${TABLE_DDL}`);
      const p = PSQL.join(" ");
      copyPsql.push(
        await time(() =>
          execSync(`psql ${p} -c "\\copy (SELECT * FROM ${SCHEMA}.psql_append) TO STDOUT" | psql ${p} -c "\\copy ${SCHEMA}.psql_copy FROM STDIN"`, {
            stdio: ["ignore", "ignore", "inherit"],
            shell: "/bin/bash",
          }),
        ),
      );
      await admin.query(`DROP TABLE IF EXISTS ${SCHEMA}.tau_copy`);
      const t = await time(async () => {
        const result = (await runPipeline(copyPipeline)) as { copied: number };
        if (result.copied !== ROWS) throw new Error(`copy moved ${result.copied} rows`);
      });
      copyTau.push(t);
    }
    const copy = { psqlRowsPerSec: rate(ROWS, median(copyPsql)), tauRowsPerSec: rate(ROWS, median(copyTau)) };

    const report = {
      bench: "postgres-load",
      rows: ROWS,
      extractRows: EXTRACT_ROWS,
      append: { ...append, ratio: +(append.tauRowsPerSec / append.psqlRowsPerSec).toFixed(2), target: ">= 0.70" },
      upsert: { ...upsert, ratio: +(upsert.tauRowsPerSec / upsert.psqlRowsPerSec).toFixed(2), target: ">= 0.50" },
      extract: { ...extract, ratio: +(extract.tauMs / extract.plainPgMs).toFixed(2), target: "<= 1.5" },
      copy: { ...copy, ratio: +(copy.tauRowsPerSec / copy.psqlRowsPerSec).toFixed(2) },
    };
    process.stderr.write(
      `append:  tau ${append.tauRowsPerSec} rows/s, psql \\copy ${append.psqlRowsPerSec} rows/s → ${report.append.ratio} (target ≥ 0.70)\n` +
        `upsert:  tau ${upsert.tauRowsPerSec} rows/s, psql staging+merge ${upsert.psqlRowsPerSec} rows/s → ${report.upsert.ratio} (target ≥ 0.50)\n` +
        `extract: tau ${extract.tauMs} ms (sandbox), plain pg ${extract.plainPgMs} ms → ${report.extract.ratio}× (target ≤ 1.5×)\n` +
        `copy:    tau ${copy.tauRowsPerSec} rows/s (sandbox query→load), psql | psql ${copy.psqlRowsPerSec} rows/s → ${report.copy.ratio}\n`,
    );
    process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
  } finally {
    await pool.close().catch(() => undefined);
    await admin.query(`DROP SCHEMA IF EXISTS ${SCHEMA} CASCADE`).catch(() => undefined);
    await admin.end();
    rmSync(tmp, { recursive: true, force: true });
  }
}

main().catch((err) => {
  process.stderr.write(`${(err as Error).stack}\n`);
  process.exit(1);
});
