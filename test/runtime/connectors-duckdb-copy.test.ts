/**
 * DuckDB → DuckDB host-side copies (runtime/connectors/duckdb-copy.ts) against real DuckDB files: the result's
 * chunks go into the target with no row objects (the copy's rows are never iterated), tables are created with
 * the source's own types, every load mode keeps its semantics, a column that would need a lossy cast goes
 * through the rows with their checks, and a failure mid-copy — a key conflict, a source error, the source's
 * connector closing — leaves the target as it was. The source is read on its own connection, never attached.
 */
import { createHash } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, afterEach, beforeEach, describe, expect, it } from "vitest";
import { runSource } from "../sandbox/helpers";
import { buildPrivateExecutor, startPrivatePool } from "../sandbox/streams-build";
import { HOSTED_DEFAULT_POLICY, LOCAL_POLICY, type Policy } from "../../policies";
import { ConnectorHost, RawJson, type ConnectorContext, type HostConnector, type LoadRequest, type LoadingConnector, type RowCursor, type RowSource, type StreamingConnector } from "../../runtime/connectors";

const root = mkdtempSync(join(tmpdir(), "tau-duckdb-copy-"));
afterAll(() => rmSync(root, { recursive: true, force: true }));

type Db = HostConnector & StreamingConnector & LoadingConnector;
let host: ConnectorHost;
let dataDir: string;
let n = 0;
const open: HostConnector[] = [];

const ctx = (policy: Policy): ConnectorContext => ({ dataDir, policy, limits: policy.limits });

async function connect(path: string, policy: Policy = LOCAL_POLICY): Promise<Db> {
  const c = await host.open("duckdb_local", { path }, ctx(policy));
  open.push(c);
  return c as Db;
}

async function rows(c: HostConnector, sql: string): Promise<Record<string, unknown>[]> {
  return JSON.parse(((await c.call("extract", [sql, []])) as RawJson).text) as Record<string, unknown>[];
}

async function failure(p: Promise<unknown>): Promise<{ code: string; message: string; details: Record<string, unknown> }> {
  try {
    await p;
  } catch (err) {
    return err as { code: string; message: string; details: Record<string, unknown> };
  }
  throw new Error("expected the call to fail");
}

/**
 * What the executor's copy path (sandbox/executor/connector-streams.ts) hands `loadFrom`: the cursor's rows,
 * and the cursor itself. `iterated` counts the batches taken as rows (0 when the copy went chunk by chunk).
 */
async function copy(source: Db, target: Db, sql: string, request: Partial<LoadRequest> & { table: string }, batchSize = 5000): Promise<{ loaded: number; iterated: number }> {
  const cursor = await source.openCursor(sql, [], batchSize);
  let iterated = 0;
  const rowSource: RowSource = {
    cursor,
    async *[Symbol.asyncIterator]() {
      for (let b = await cursor.next(); b; b = await cursor.next()) {
        iterated++;
        yield b;
      }
    },
  };
  try {
    const loaded = await target.loadFrom(rowSource, { mode: "append", mergeKey: null, ...request });
    return { loaded, iterated };
  } finally {
    await cursor.close();
  }
}

beforeEach(async () => {
  host = new ConnectorHost();
  dataDir = join(root, `tenant-${++n}`);
});
afterEach(async () => {
  await Promise.all(open.splice(0).map((c) => c.close()));
  host.close();
});

const SOURCE_TABLE = `CREATE TABLE src AS SELECT range::INTEGER AS id, 'name ' || range AS name, (range / 8)::DECIMAL(18,3) AS price,
  DATE '2024-01-01' + (range % 60)::INTEGER AS day, TIMESTAMP '2024-01-01 00:00:00' + to_microseconds(range) AS seen,
  CASE WHEN range % 3 = 0 THEN NULL ELSE range % 2 = 0 END AS flag, [range, range + 1] AS pair, {'k': range % 5} AS meta,
  ('{"n":' || range || '}')::JSON AS doc FROM range(10000)`;

describe("duckdb_local → duckdb_local copy, chunk by chunk", () => {
  it("creates a missing table with the source's own column types and copies every value, with no row objects", async () => {
    const src = await connect("src.duckdb");
    const dst = await connect("dst.duckdb");
    await src.call("execute", [SOURCE_TABLE]);
    expect(await copy(src, dst, "SELECT * FROM src", { table: "copied" })).toEqual({ loaded: 10_000, iterated: 0 });
    expect(((await dst.call("getSchema", ["copied"])) as { name: string; type: string }[]).map((c) => `${c.name} ${c.type}`)).toEqual([
      "id INTEGER",
      "name VARCHAR",
      "price DECIMAL(18,3)",
      "day DATE",
      "seen TIMESTAMP",
      "flag BOOLEAN",
      "pair BIGINT[]",
      "meta STRUCT(k BIGINT)",
      "doc JSON",
    ]);
    // Same values as the source, read through the same conversions.
    expect(await rows(dst, "SELECT * FROM copied ORDER BY id")).toEqual(await rows(src, "SELECT * FROM src ORDER BY id"));
  });

  it("appends straight into a table with the same columns, and through staging into one with others (order, extra columns, widening)", async () => {
    const src = await connect("src.duckdb");
    const dst = await connect("dst.duckdb");
    await src.call("execute", ["CREATE TABLE s AS SELECT range::INTEGER AS id, 'v' || range AS v, DATE '2024-03-01' + (range % 3)::INTEGER AS d FROM range(5000)"]);
    await dst.call("execute", ["CREATE TABLE same (id INTEGER PRIMARY KEY, v VARCHAR, d DATE)"]);
    await dst.call("execute", ["CREATE TABLE other (d TIMESTAMP, extra VARCHAR DEFAULT 'x', id BIGINT, v VARCHAR)"]);
    expect(await copy(src, dst, "SELECT * FROM s", { table: "same" })).toEqual({ loaded: 5000, iterated: 0 });
    expect(await copy(src, dst, "SELECT * FROM s", { table: "other" })).toEqual({ loaded: 5000, iterated: 0 });
    expect(await rows(dst, "SELECT count(*) AS n, sum(id) AS s, max(v) AS v, min(d) AS d FROM same")).toEqual([{ n: 5000, s: 12_497_500, v: "v999", d: "2024-03-01" }]);
    expect(await rows(dst, "SELECT * FROM other WHERE id = 4")).toEqual([{ d: "2024-03-02T00:00:00.000Z", extra: "x", id: 4, v: "v4" }]);
    // Columns the table lacks are added with the source's type.
    await src.call("execute", ["ALTER TABLE s ADD COLUMN score DECIMAL(5,2) DEFAULT 1.25"]);
    expect(await copy(src, dst, "SELECT * FROM s WHERE id < 10", { table: "other" })).toEqual({ loaded: 10, iterated: 0 });
    expect(((await dst.call("getSchema", ["other"])) as { name: string; type: string }[]).at(-1)).toEqual({ name: "score", type: "DECIMAL(5,2)", nullable: true });
  });

  it("replace keeps the table when the columns are the same and rebuilds it with the source's types when they are not", async () => {
    const src = await connect("src.duckdb");
    const dst = await connect("dst.duckdb");
    await src.call("execute", ["CREATE TABLE s AS SELECT range AS id, range * 2 AS twice FROM range(3000)"]);
    await dst.call("execute", ["CREATE TABLE r (id BIGINT, twice BIGINT)"]);
    await dst.call("execute", ["INSERT INTO r VALUES (-1, -2)"]);
    expect(await copy(src, dst, "SELECT * FROM s", { table: "r", mode: "replace" })).toEqual({ loaded: 3000, iterated: 0 });
    expect(await rows(dst, "SELECT count(*) AS n, min(id) AS lo FROM r")).toEqual([{ n: 3000, lo: 0 }]);
    expect(await copy(src, dst, "SELECT id::SMALLINT AS id, 'x' AS tag FROM s WHERE id < 5", { table: "r", mode: "replace" })).toEqual({ loaded: 5, iterated: 0 });
    expect(await dst.call("getSchema", ["r"])).toEqual([
      { name: "id", type: "SMALLINT", nullable: true },
      { name: "tag", type: "VARCHAR", nullable: true },
    ]);
  });

  it("upsert creates the key, is idempotent, the last of two rows with one key wins, and a missing mergeKey changes nothing", async () => {
    const src = await connect("src.duckdb");
    const dst = await connect("dst.duckdb");
    await src.call("execute", ["CREATE TABLE s AS SELECT range AS id, 'v' || range AS v FROM range(4000)"]);
    expect(await copy(src, dst, "SELECT * FROM s", { table: "u", mode: "upsert", mergeKey: ["id"] })).toEqual({ loaded: 4000, iterated: 0 });
    expect(await copy(src, dst, "SELECT * FROM s", { table: "u", mode: "upsert", mergeKey: ["id"] })).toEqual({ loaded: 4000, iterated: 0 });
    expect(await rows(dst, "SELECT count(*) AS n FROM u")).toEqual([{ n: 4000 }]);
    expect(await rows(dst, "SELECT constraint_type FROM duckdb_constraints() WHERE table_name = 'u' AND constraint_type = 'PRIMARY KEY'")).toEqual([
      { constraint_type: "PRIMARY KEY" },
    ]);
    const twice = "SELECT * FROM (SELECT 7 AS id, 'first' AS v UNION ALL SELECT 7, 'second' UNION ALL SELECT 9000, 'new') ORDER BY v";
    await copy(src, dst, twice, { table: "u", mode: "upsert", mergeKey: ["id"] });
    expect(await rows(dst, "SELECT * FROM u WHERE id IN (7, 9000) ORDER BY id")).toEqual([
      { id: 7, v: "second" },
      { id: 9000, v: "new" },
    ]);
    const absent = await failure(copy(src, dst, "SELECT * FROM s", { table: "u2", mode: "upsert", mergeKey: ["id", "tenant"] }));
    expect(absent).toMatchObject({ code: "TAU_E_CONNECTOR_ARGS_INVALID", details: { column: "tenant" } });
    expect((await failure(dst.call("getSchema", ["u2"]))).code).toBe("TAU_E_CONNECTOR_UNKNOWN_OBJECT");
  });

  it("a column that would need a lossy cast goes through the rows: 1.5 into an INTEGER column is a type mismatch, nothing loaded", async () => {
    const src = await connect("src.duckdb");
    const dst = await connect("dst.duckdb");
    await src.call("execute", ["CREATE TABLE s AS SELECT range AS id, range / 2 AS half FROM range(10)"]);
    await dst.call("execute", ["CREATE TABLE t (id BIGINT, half INTEGER)"]);
    await dst.call("execute", ["INSERT INTO t VALUES (100, 100)"]);
    // Whole values fit: the copy goes through the rows and loads them.
    expect(await copy(src, dst, "SELECT id, half FROM s WHERE id % 2 = 0", { table: "t" })).toEqual({ loaded: 5, iterated: 1 });
    const err = await failure(copy(src, dst, "SELECT * FROM s", { table: "t" }));
    expect(err).toMatchObject({ code: "TAU_E_CONNECTOR_TYPE_MISMATCH", details: { column: "half", columnType: "INTEGER", row: 1, mode: "append" } });
    expect(await rows(dst, "SELECT count(*) AS n FROM t")).toEqual([{ n: 6 }]);
  });

  it("an empty result loads nothing and creates nothing; an empty replace empties the table", async () => {
    const src = await connect("src.duckdb");
    const dst = await connect("dst.duckdb");
    await src.call("execute", ["CREATE TABLE s AS SELECT range AS id FROM range(10)"]);
    expect(await copy(src, dst, "SELECT * FROM s WHERE id < 0", { table: "none" })).toEqual({ loaded: 0, iterated: 0 });
    expect((await failure(dst.call("getSchema", ["none"]))).code).toBe("TAU_E_CONNECTOR_UNKNOWN_OBJECT");
    await dst.call("execute", ["CREATE TABLE full_t AS SELECT 1 AS id"]);
    expect((await copy(src, dst, "SELECT * FROM s WHERE id < 0", { table: "full_t", mode: "replace" })).loaded).toBe(0);
    expect(await rows(dst, "SELECT count(*) AS n FROM full_t")).toEqual([{ n: 0 }]);
  });
});

describe("a copy that fails part way leaves the target as it was", () => {
  async function seeded(): Promise<{ src: Db; dst: Db }> {
    const src = await connect("src.duckdb");
    const dst = await connect("dst.duckdb");
    await src.call("execute", ["CREATE TABLE s AS SELECT range AS id, 'v' || range AS v FROM range(50000)"]);
    await dst.call("execute", ["CREATE TABLE t (id BIGINT PRIMARY KEY, v VARCHAR)"]);
    await dst.call("execute", ["INSERT INTO t VALUES (49999, 'already here')"]);
    return { src, dst };
  }
  const unchanged = async (dst: Db): Promise<void> => {
    expect(await rows(dst, "SELECT * FROM t")).toEqual([{ id: 49999, v: "already here" }]);
  };

  it("a key already in the table in the last chunk: TAU_E_CONNECTOR_CONSTRAINT", async () => {
    const { src, dst } = await seeded();
    expect((await failure(copy(src, dst, "SELECT * FROM s ORDER BY id", { table: "t" }))).code).toBe("TAU_E_CONNECTOR_CONSTRAINT");
    await unchanged(dst);
  });

  it("the source query failing after 20k rows: its error, and nothing loaded (append and replace)", async () => {
    const { src, dst } = await seeded();
    const failing = "SELECT id, CASE WHEN id = 20000 THEN error('boom at 20000') ELSE v END AS v FROM s";
    for (const mode of ["append", "replace"] as const) {
      const err = await failure(copy(src, dst, failing, { table: "t", mode }));
      expect(err.message).toContain("boom at 20000");
      await unchanged(dst);
    }
  });

  it("the source's cursor closed mid-copy (its connector closed): TAU_E_CONNECTOR_CLOSED, nothing loaded", async () => {
    const { src, dst } = await seeded();
    const cursor = (await src.openCursor("SELECT * FROM s WHERE id < 49999", [], 5000)) as RowCursor & { nextChunk(): Promise<unknown> };
    // The executor closes the cursor when the source's connector closes: here while the third chunk is fetched.
    const fetchChunk = cursor.nextChunk.bind(cursor);
    let fetches = 0;
    cursor.nextChunk = () => {
      const chunk = fetchChunk();
      if (++fetches === 3) void cursor.close();
      return chunk;
    };
    const rowSource: RowSource = {
      cursor,
      async *[Symbol.asyncIterator]() {
        throw new Error("the rows must not be read");
      },
    };
    const err = await failure(dst.loadFrom(rowSource, { table: "t", mode: "append", mergeKey: null }));
    expect(fetches).toBe(3);
    expect(err.code).toBe("TAU_E_CONNECTOR_CLOSED");
    await unchanged(dst);
  });
});

describe("the source is read on its own connection", () => {
  it("works with external access off (the hosted policy: no ATTACH), attaches nothing to the target, and leaves the source file as it was", async () => {
    expect(HOSTED_DEFAULT_POLICY.duckdbAnyPath).toBe(false);
    const prepare = await connect("src.duckdb", HOSTED_DEFAULT_POLICY);
    await prepare.call("execute", ["CREATE TABLE s AS SELECT range AS id FROM range(20000)"]);
    await prepare.call("execute", ["CHECKPOINT"]);
    await prepare.close();
    const digest = (): string => createHash("sha256").update(readFileSync(join(dataDir, "src.duckdb"))).digest("hex");
    const before = digest();
    const src = await connect("src.duckdb", HOSTED_DEFAULT_POLICY);
    const dst = await connect("dst.duckdb", HOSTED_DEFAULT_POLICY);
    expect((await failure(dst.call("execute", [`ATTACH '${join(dataDir, "src.duckdb")}' AS other (READ_ONLY)`]))).code).toBe("TAU_E_POLICY_DENIED");
    expect(await copy(src, dst, "SELECT * FROM s", { table: "t" })).toEqual({ loaded: 20_000, iterated: 0 });
    expect(await rows(dst, "SELECT count(*) AS n, sum(id) AS s FROM t")).toEqual([{ n: 20_000, s: 199_990_000 }]);
    expect(await rows(dst, "SELECT database_name FROM duckdb_databases() WHERE NOT internal ORDER BY 1")).toEqual([{ database_name: "dst" }]);
    await src.close();
    expect(digest()).toBe(before);
  });
});

describe("through a pipeline in a real executor", () => {
  it("load(source.query(…)) between two DuckDB files takes the chunk path: the table keeps the source's DECIMAL and LIST types", async () => {
    const build = await buildPrivateExecutor();
    const pool = await startPrivatePool(build, 1);
    try {
      dataDir = join(root, `tenant-${++n}`);
      const { outcome } = await runSource(
        pool,
        `import { pipeline } from "tau";
import { duckdb_local } from "tau/connectors";
export default pipeline({ name: "native_copy" }, async () => {
  await using source = duckdb_local("e2e-src.duckdb");
  await using target = duckdb_local("e2e-dst.duckdb");
  await source.execute("CREATE TABLE s AS SELECT range AS id, (range / 4)::DECIMAL(18,3) AS price, [range] AS tags FROM range(30000)");
  const copied = await target.load(source.query("SELECT * FROM s WHERE id >= ?", [0]), { table: "s" });
  const types = await target.getSchema("s");
  const [sums] = await target.extract("SELECT count(*) AS n, sum(price)::DOUBLE AS total FROM s");
  return { copied, types: types.map((c) => c.type), sums };
});
`,
        { dataDir, policy: HOSTED_DEFAULT_POLICY },
      );
      expect(outcome).toEqual({
        status: "succeeded",
        result: { copied: 30_000, types: ["BIGINT", "DECIMAL(18,3)", "BIGINT[]"], sums: { n: 30_000, total: (29_999 * 30_000) / 2 / 4 } },
      });
    } finally {
      await pool.close();
      build.remove();
    }
  }, 60_000);
});
