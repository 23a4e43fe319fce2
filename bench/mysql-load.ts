/**
 * mysql load throughput against MariaDB/MySQL's own bulk path, in the same run:
 *   append: 1M rows through the host driver (`loadFrom`, batches of 10k, as a host-side copy feeds it)
 *           vs `LOAD DATA LOCAL INFILE` of the same rows from a file (mysql2, no Tau code) — target ≥ 70%;
 *   upsert: 1M rows (half new, half existing keys) into a 1M-row table through the driver vs the plain
 *           statements (LOAD DATA into a temporary table, one INSERT … SELECT … ON DUPLICATE KEY UPDATE) — ≥ 50%.
 * Also prints the driver's multi-row INSERT path, for the record of why LOAD DATA is the default.
 *
 *   npx tsx bench/mysql-load.ts [rows]        (or node dist/bench/mysql-load.js after npm run build)
 * Env: TAU_BENCH_MYSQL_HOST (127.0.0.1), TAU_BENCH_MYSQL_PORT (3306), TAU_BENCH_MYSQL_USER (root),
 * TAU_BENCH_MYSQL_PASSWORD (empty). Uses and drops a database `tau_bench_<pid>`.
 */
import { createReadStream, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createConnection, type Connection } from "mysql2/promise";
import { LOCAL_POLICY } from "../policies";
import { MysqlDriver, type MysqlConnector } from "../runtime/connectors/mysql";
import type { RowSource } from "../runtime/connectors/types";

const ROWS = Number(process.argv[2] ?? 1_000_000);
const BATCH = 10_000;
const host = process.env.TAU_BENCH_MYSQL_HOST ?? "127.0.0.1";
const port = Number(process.env.TAU_BENCH_MYSQL_PORT ?? 3306);
const user = process.env.TAU_BENCH_MYSQL_USER ?? "root";
const password = process.env.TAU_BENCH_MYSQL_PASSWORD ?? "";
const db = `tau_bench_${process.pid}`;

type Row = { id: number; name: string; amount: number; qty: number; day: string; at: string; paid: boolean };

function makeRows(n: number, idFrom: number, tag: string): Row[] {
  const rows: Row[] = new Array(n);
  for (let i = 0; i < n; i++) {
    const id = idFrom + i;
    rows[i] = {
      id,
      name: `${tag} customer ${id}`,
      amount: Math.round(id * 137.31) / 100,
      qty: id % 97,
      day: `2024-0${1 + (id % 9)}-1${id % 10}`,
      at: `2024-03-0${1 + (id % 9)}T12:34:56.${String(id % 1000).padStart(3, "0")}Z`,
      paid: id % 3 === 0,
    };
  }
  return rows;
}

function tsv(rows: Row[]): string {
  const parts: string[] = [];
  for (const r of rows) {
    parts.push(`${r.id}\t${r.name}\t${r.amount}\t${r.qty}\t${r.day}\t${r.at.slice(0, 10)} ${r.at.slice(11, 23)}\t${r.paid ? 1 : 0}\n`);
  }
  return parts.join("");
}

function source(rows: Row[]): RowSource {
  return {
    async *[Symbol.asyncIterator]() {
      for (let i = 0; i < rows.length; i += BATCH) yield rows.slice(i, i + BATCH) as unknown as Record<string, unknown>[];
    },
  };
}

const COLUMNS = "`id` BIGINT NOT NULL, `name` LONGTEXT NULL, `amount` DOUBLE NULL, `qty` BIGINT NULL, `day` DATE NULL, `at` DATETIME(6) NULL, `paid` TINYINT(1) NULL";
const LOAD_FIELDS = "FIELDS TERMINATED BY '\\t' ESCAPED BY '\\\\' LINES TERMINATED BY '\\n' (`id`, `name`, `amount`, `qty`, `day`, `at`, `paid`)";

async function timed(fn: () => Promise<unknown>): Promise<number> {
  const t = process.hrtime.bigint();
  await fn();
  return Number(process.hrtime.bigint() - t) / 1e9;
}

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), "tau-bench-mysql-"));
  const admin: Connection = await createConnection({ host, port, user, password });
  await admin.query(`CREATE DATABASE \`${db}\``);
  await admin.query(`USE \`${db}\``);
  await admin.query("SET SESSION sql_mode = 'STRICT_ALL_TABLES', time_zone = '+00:00'");
  const driver = new MysqlDriver();
  const conn = (await driver.open({ host, port, user, password, database: db }, { dataDir: dir, policy: LOCAL_POLICY, limits: LOCAL_POLICY.limits })) as MysqlConnector;
  try {
    process.stderr.write(`bench: generating ${ROWS} rows\n`);
    const rows = makeRows(ROWS, 1, "first");
    const file = join(dir, "rows.tsv");
    writeFileSync(file, tsv(rows));
    const infile = (sql: string, path: string): Promise<unknown> => admin.query({ sql, infileStreamFactory: () => createReadStream(path) });

    // ── append ──
    const baseline: number[] = [];
    const ours: number[] = [];
    const insertPath: number[] = [];
    for (let round = 0; round < 2; round++) {
      await admin.query(`DROP TABLE IF EXISTS base_append, tau_append, tau_insert`);
      await admin.query(`CREATE TABLE base_append (${COLUMNS})`);
      baseline.push(await timed(() => infile(`LOAD DATA LOCAL INFILE 'rows.tsv' INTO TABLE base_append CHARACTER SET utf8mb4 ${LOAD_FIELDS}`, file)));
      conn.bulkPath = "auto";
      ours.push(await timed(() => conn.loadFrom(source(rows), { table: "tau_append", mode: "append", mergeKey: null })));
      if (round === 0) {
        conn.bulkPath = "insert";
        insertPath.push(await timed(() => conn.loadFrom(source(rows), { table: "tau_insert", mode: "append", mergeKey: null })));
        conn.bulkPath = "auto";
      }
    }
    const [[{ n }]] = (await admin.query("SELECT COUNT(*) AS n FROM tau_append")) as unknown as [[{ n: number }]];
    if (Number(n) !== ROWS) throw new Error(`driver loaded ${n} rows, expected ${ROWS}`);

    // ── upsert: 1M rows, ids ROWS/2+1 … ROWS*1.5, into a table holding ids 1 … ROWS ──
    const upsertRows = makeRows(ROWS, Math.floor(ROWS / 2) + 1, "second");
    const upsertFile = join(dir, "upsert.tsv");
    writeFileSync(upsertFile, tsv(upsertRows));
    await admin.query(`DROP TABLE IF EXISTS seed`);
    await admin.query(`CREATE TABLE seed (${COLUMNS}, PRIMARY KEY (id))`);
    await infile(`LOAD DATA LOCAL INFILE 'rows.tsv' INTO TABLE seed CHARACTER SET utf8mb4 ${LOAD_FIELDS}`, file);
    const reset = async (name: string): Promise<void> => {
      await admin.query(`DROP TABLE IF EXISTS ${name}`);
      await admin.query(`CREATE TABLE ${name} LIKE seed`);
      await admin.query(`INSERT INTO ${name} SELECT * FROM seed`);
    };
    const upBase: number[] = [];
    const upOurs: number[] = [];
    for (let round = 0; round < 2; round++) {
      await reset("base_upsert");
      upBase.push(
        await timed(async () => {
          await admin.query(`CREATE TEMPORARY TABLE stage (${COLUMNS})`);
          await admin.query("START TRANSACTION");
          await infile(`LOAD DATA LOCAL INFILE 'upsert.tsv' INTO TABLE stage CHARACTER SET utf8mb4 ${LOAD_FIELDS}`, upsertFile);
          await admin.query(
            "INSERT INTO base_upsert (id, name, amount, qty, day, at, paid) SELECT id, name, amount, qty, day, at, paid FROM stage " +
              "ON DUPLICATE KEY UPDATE name = VALUES(name), amount = VALUES(amount), qty = VALUES(qty), day = VALUES(day), at = VALUES(at), paid = VALUES(paid)",
          );
          await admin.query("COMMIT");
          await admin.query("DROP TEMPORARY TABLE stage");
        }),
      );
      await reset("tau_upsert");
      upOurs.push(await timed(() => conn.loadFrom(source(upsertRows), { table: "tau_upsert", mode: "upsert", mergeKey: ["id"] })));
    }
    const [[check]] = (await admin.query("SELECT COUNT(*) AS n, SUM(name LIKE 'second%') AS s FROM tau_upsert")) as unknown as [[{ n: number; s: number }]];
    if (Number(check.n) !== ROWS + Math.floor(ROWS / 2) || Number(check.s) !== ROWS) throw new Error(`upsert result is wrong: ${JSON.stringify(check)}`);

    const best = (xs: number[]): number => Math.min(...xs);
    const rate = (s: number): string => `${Math.round(ROWS / s).toLocaleString("en-US")} rows/s`;
    const out = {
      rows: ROWS,
      append: {
        loadDataLocalInfile: rate(best(baseline)),
        tauLoadFrom: rate(best(ours)),
        ratio: +(best(baseline) / best(ours)).toFixed(3),
        tauInsertPath: rate(best(insertPath)),
        insertPathRatio: +(best(baseline) / best(insertPath)).toFixed(3),
        target: 0.7,
      },
      upsert: {
        plainStatements: rate(best(upBase)),
        tauLoadFrom: rate(best(upOurs)),
        ratio: +(best(upBase) / best(upOurs)).toFixed(3),
        target: 0.5,
      },
    };
    process.stdout.write(`${JSON.stringify(out, null, 2)}\n`);
  } finally {
    await conn.close();
    await admin.query(`DROP DATABASE IF EXISTS \`${db}\``).catch(() => undefined);
    await admin.end();
    rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((err) => {
  process.stderr.write(`bench failed: ${err instanceof Error ? err.stack ?? err.message : String(err)}\n`);
  process.exit(1);
});
