/**
 * Every SQL connector loads the same rows whether they crossed the bridge as columns (`connector.load`,
 * the columnar transport: encoded by the guest SDK, decoded by the executor, handed over as a ColumnBatch)
 * or as row objects (`connector.call load`): same table contents, same inferred column types, same errors.
 * Against real DuckDB, PostgreSQL (also as redshift) and MariaDB.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createConnection, type Connection } from "mysql2/promise";
import { Client } from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { LOCAL_POLICY } from "../../policies";
import { ConnectorHost, RawJson, columnSource, oneBatch, type HostConnector, type LoadRequest, type LoadingConnector } from "../../runtime/connectors";
import { encodeRowBatch } from "../../runtime/sdk/row-batch";
import { decodeRowBatch } from "../../sandbox/executor/row-batch";

const root = mkdtempSync(join(tmpdir(), "tau-columnar-load-"));
const SCHEMA = `tau_columnar_${process.pid}`;
const MYSQL_DB = `tau_columnar_${process.pid}`;
let host: ConnectorHost;
let pg: Client;
let my: Connection;
const opened: HostConnector[] = [];

interface Kind {
  kind: string;
  options: Record<string, unknown>;
  /** The table name as the connector's load and SQL take it. */
  table(name: string): string;
}

const KINDS: Kind[] = [
  { kind: "duckdb_local", options: { path: "columnar.duckdb" }, table: (n) => n },
  { kind: "postgres", options: { host: "127.0.0.1", port: 5432, database: "test", user: "postgres" }, table: (n) => `${SCHEMA}.${n}` },
  { kind: "redshift", options: { host: "127.0.0.1", port: 5432, database: "test", user: "postgres" }, table: (n) => `${SCHEMA}.rs_${n}` },
  { kind: "mysql", options: { host: "127.0.0.1", user: "root", database: MYSQL_DB }, table: (n) => n },
];

beforeAll(async () => {
  host = new ConnectorHost();
  pg = new Client({ host: "127.0.0.1", port: 5432, database: "test", user: "postgres" });
  await pg.connect();
  await pg.query(`DROP SCHEMA IF EXISTS ${SCHEMA} CASCADE`);
  await pg.query(`CREATE SCHEMA ${SCHEMA}`);
  my = await createConnection({ host: "127.0.0.1", user: "root" });
  await my.query(`DROP DATABASE IF EXISTS \`${MYSQL_DB}\``);
  await my.query(`CREATE DATABASE \`${MYSQL_DB}\``);
});

afterAll(async () => {
  await Promise.all(opened.splice(0).map((c) => c.close()));
  host?.close();
  await pg?.query(`DROP SCHEMA IF EXISTS ${SCHEMA} CASCADE`);
  await pg?.end();
  await my?.query(`DROP DATABASE IF EXISTS \`${MYSQL_DB}\``);
  await my?.end();
  rmSync(root, { recursive: true, force: true });
});

async function connect(k: Kind): Promise<LoadingConnector> {
  const c = await host.open(k.kind, k.options, { dataDir: root, policy: LOCAL_POLICY, limits: LOCAL_POLICY.limits });
  opened.push(c);
  return c as LoadingConnector;
}

/** Rows as the bridge hands them over after each transport. */
function asColumns(rows: unknown[], request: LoadRequest): ReturnType<typeof columnSource> {
  const text = encodeRowBatch("h1", { ...request }, rows);
  if (text === null) throw new Error("not encodable as columns");
  return columnSource(decodeRowBatch(text, { maxBytes: LOCAL_POLICY.limits.bridgeBytes, maxDepth: LOCAL_POLICY.limits.jsonDepth }).batch);
}

function asRows(rows: unknown[]): ReturnType<typeof oneBatch> {
  return oneBatch(JSON.parse(JSON.stringify(rows, (_k, v: unknown) => (typeof v === "bigint" ? String(v) : v))) as Record<string, unknown>[]);
}

async function outcome(p: Promise<unknown>): Promise<unknown> {
  try {
    return { ok: await p };
  } catch (err) {
    const e = err as { code?: string; message?: string };
    // The staging table's name is random per load; everything else must match.
    return { code: e.code, message: e.message?.replace(/tau_stage_\w+/g, "STAGE") };
  }
}

async function contents(c: HostConnector, table: string, order: string): Promise<unknown> {
  const value = await c.call("extract", [`SELECT * FROM ${table} ORDER BY ${order}`, []]);
  return JSON.parse((value as RawJson).text);
}

/** Loads `rows` both ways into two tables (the same `steps` on each) and checks both tables end the same. */
async function sameBothWays(k: Kind, name: string, steps: Array<{ rows: unknown[]; request: Omit<LoadRequest, "table">; setup?: string }>, order = "id"): Promise<unknown[]> {
  const c = await connect(k);
  const outcomes: unknown[] = [];
  const viaColumns = k.table(`${name}_c`);
  const viaRows = k.table(`${name}_r`);
  for (const step of steps) {
    if (step.setup) {
      await c.call("execute", [step.setup.replaceAll("$T", viaColumns), []]);
      await c.call("execute", [step.setup.replaceAll("$T", viaRows), []]);
    }
    const a = await outcome(c.loadFrom(asColumns(step.rows, { table: viaColumns, ...step.request }), { table: viaColumns, ...step.request }));
    const b = await outcome(c.loadFrom(asRows(step.rows), { table: viaRows, ...step.request }));
    expect(JSON.stringify(a).replaceAll(viaColumns, "T")).toBe(JSON.stringify(b).replaceAll(viaRows, "T"));
    outcomes.push(a);
  }
  // (A load both transports refused may have left no table: then both answers are the same error.)
  const schema = async (t: string): Promise<string> => JSON.stringify(await outcome(c.call("getSchema", [t]))).replaceAll(t, "T");
  expect(await schema(viaColumns)).toBe(await schema(viaRows));
  const rows = async (t: string): Promise<string> => JSON.stringify(await outcome(contents(c, t, order))).replaceAll(t, "T");
  expect(await rows(viaColumns)).toBe(await rows(viaRows));
  return outcomes;
}

const VALUES = [
  { id: 1, amount: 1.5, big: 9007199254740993n, name: "Ada", ok: true, day: "2024-01-02", at: "2024-01-02T03:04:05Z", meta: { tags: ["a", "b"], n: 1 }, note: null },
  { id: 2, amount: -2, big: -5n, name: "é 😀 \"q\"", ok: false, day: "2024-02-29", at: "2024-02-29 23:59:59", meta: [1, 2, 3], note: "x" },
  { id: 3, amount: 1e20, name: "", day: null, at: new Date("2024-03-01T00:00:00Z"), meta: null },
  { id: 4, amount: Number.NaN, big: 0n, ok: null, note: undefined },
];

describe.each(KINDS)("$kind loads the same rows through either transport", (k) => {
  it("creates the table from the rows' inferred types: numbers, big integers, text, booleans, dates, timestamps, JSON, nulls and missing fields", async () => {
    const [loaded] = await sameBothWays(k, "kinds", [{ rows: VALUES, request: { mode: "append", mergeKey: null } }]);
    // Redshift has SUPER for JSON, which PostgreSQL (standing in for it here) lacks: both transports fail alike.
    expect(loaded).toEqual(k.kind === "redshift" ? { code: "TAU_E_CONNECTOR_UNKNOWN_OBJECT", message: 'type "super" does not exist' } : { ok: 4 });
  });

  it("adds the columns new fields bring and appends into the existing table", async () => {
    await sameBothWays(k, "evolve", [
      { rows: [{ id: 1, a: "x" }], request: { mode: "append", mergeKey: null } },
      { rows: [{ id: 2, a: "y", b: 2.5 }, { id: 3, c: true }], request: { mode: "append", mergeKey: null } },
    ]);
  });

  it("refuses a value that does not fit its column with the same error, and leaves the table as it was", async () => {
    const outcomes = await sameBothWays(k, "mismatch", [
      { rows: [{ id: 1, n: 5 }], request: { mode: "append", mergeKey: null } },
      { rows: [{ id: 2, n: 6 }, { id: 3, n: "not a number" }], request: { mode: "append", mergeKey: null } },
    ]);
    expect(outcomes[1]).toMatchObject({ code: "TAU_E_CONNECTOR_TYPE_MISMATCH" });
  });

  it("upserts on the mergeKey (twice gives the same table) and refuses a mergeKey the rows lack", async () => {
    const rows = [{ id: 1, v: "a" }, { id: 2, v: "b" }, { id: 1, v: "c" }];
    const outcomes = await sameBothWays(k, "upsert", [
      { rows, request: { mode: "upsert", mergeKey: ["id"] } },
      { rows: [{ id: 2, v: "B" }, { id: 3, v: null }], request: { mode: "upsert", mergeKey: ["id"] } },
      { rows: [{ id: 2, v: "B" }, { id: 3, v: null }], request: { mode: "upsert", mergeKey: ["id"] } },
      { rows: [{ id: 4, v: "z" }], request: { mode: "upsert", mergeKey: ["missing"] } },
    ]);
    expect(outcomes).toEqual([{ ok: 3 }, { ok: 2 }, { ok: 2 }, expect.objectContaining({ code: "TAU_E_CONNECTOR_ARGS_INVALID" })]);
  });

  it("replaces the table's rows, also with a changed shape, and loads no rows from an empty batch", async () => {
    await sameBothWays(k, "replace", [
      { rows: [{ id: 1, v: "a" }, { id: 2, v: "b" }], request: { mode: "append", mergeKey: null } },
      { rows: [{ id: 3, v: 1.5, w: true }], request: { mode: "replace", mergeKey: null } },
      { rows: [], request: { mode: "append", mergeKey: null } },
    ]);
  });
});
