/**
 * The per-target lock is real (a run waits while another holder has it: PostgreSQL advisory lock, MariaDB
 * GET_LOCK, the in-process lock for DuckDB), the row hash is injective on every engine (NULL ≠ '', no
 * separator collisions), and helper tables fit PostgreSQL's 63-byte names.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { dialectFor, materialize, parseTarget, TargetLocks } from "../../runtime/materializations";
import { helperRelation } from "../../runtime/materializations/relation";
import { ENGINES, openDb, type TestDb } from "./sessions";
import { fullRefresh, T1 } from "./specs";

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe.each(ENGINES)("on %s", (engine) => {
  let db: TestDb;
  beforeAll(async () => {
    db = await openDb(engine, "locks");
  });
  afterAll(async () => {
    await db?.close();
  });

  it("a run waits for the target's lock and proceeds once it is released", async () => {
    await db.seed("lk_src", { id: "int" }, [[1]]);
    const target = db.t("lk_target");
    const holder = await db.session();
    const locks = new TargetLocks();
    let release: (() => void) | null = null;
    if (engine === "postgres") {
      await holder.execute(`SELECT pg_advisory_lock(hashtextextended('tau:materialize:${target}', 0))`);
    } else if (engine === "mysql") {
      // The config names the table without its database; the engine's lock name includes it.
      await holder.execute(`SELECT GET_LOCK('tau_mat:test.${target}', 10)`);
    } else {
      release = await locks.acquire(`duckdb:${target}`);
    }
    const session = await db.session();
    let finished = false;
    const pending = materialize(fullRefresh({ targetTable: target, sourceQuery: `SELECT * FROM ${db.t("lk_src")}` }), session, {
      now: T1,
      runId: "lk",
      // On PostgreSQL and MariaDB a separate in-process registry, so only the database lock can hold the run.
      locks: engine === "duckdb" ? locks : new TargetLocks(),
    }).then((r) => {
      finished = true;
      return r;
    });
    await sleep(400);
    expect(finished).toBe(false);
    if (engine === "postgres") await holder.execute(`SELECT pg_advisory_unlock_all()`);
    else if (engine === "mysql") await holder.execute(`SELECT RELEASE_LOCK('tau_mat:test.${target}')`);
    else release!();
    expect((await pending).rowsAffected).toBe(1);
    await session.close();
    await holder.close();
  });

  it.runIf(engine !== "duckdb")("a run that waits longer than lockWaitSeconds fails with TAU_E_MATERIALIZE_LOCKED and changes nothing", async () => {
    await db.seed("lk2_src", { id: "int" }, [[1]]);
    const target = db.t("lk2_target");
    const holder = await db.session();
    const name = engine === "postgres" ? `hashtextextended('tau:materialize:${target}', 0)` : `'tau_mat:test.${target}'`;
    await holder.execute(engine === "postgres" ? `SELECT pg_advisory_lock(${name})` : `SELECT GET_LOCK(${name}, 10)`);
    const session = await db.session();
    try {
      const err = await materialize(fullRefresh({ targetTable: target, sourceQuery: `SELECT * FROM ${db.t("lk2_src")}` }), session, {
        now: T1,
        runId: "lk2",
        locks: new TargetLocks(),
        lockWaitSeconds: 1,
      }).catch((e: unknown) => e);
      expect(err).toMatchObject({ code: "TAU_E_MATERIALIZE_LOCKED", retryable: true });
      expect(await db.leftovers()).toEqual([]);
      await expect(db.count("lk2_target")).rejects.toThrow();
    } finally {
      await holder.execute(engine === "postgres" ? `SELECT pg_advisory_unlock_all()` : `SELECT RELEASE_LOCK(${name})`);
      await session.close();
      await holder.close();
    }
  });

  it("the row hash tells NULL from '' and has no separator collisions", async () => {
    const d = dialectFor(engine)!;
    const s = await db.session();
    const h = (...vals: string[]) => d.hash(vals);
    const res = await s.execute(
      `SELECT ${h("NULL", "'b'")} AS a, ${h("''", "'b'")} AS b, ${h("'a,'", "'b'")} AS c, ${h("'a'", "',b'")} AS d, ${h("'1:a'", "NULL")} AS e, ${h("'1:a'", "''")} AS f`,
    );
    await s.close();
    const values = Object.values(res.rows[0]!).map(String);
    expect(values.every((v) => /^[0-9a-f]{32}$/.test(v))).toBe(true);
    expect(new Set(values).size).toBe(values.length);
  });
});

describe("names", () => {
  it("helper tables fit in 63 bytes and differ per run", () => {
    const target = parseTarget(`analytics.${"x".repeat(80)}`);
    const a = helperRelation(target, "stage", "run-a");
    const b = helperRelation(target, "stage", "run-b");
    expect(Buffer.byteLength(a.name)).toBeLessThanOrEqual(63);
    expect(a.name).not.toBe(b.name);
    expect(a.schema).toBe("analytics");
    const multibyte = helperRelation(parseTarget("é".repeat(40)), "new", "r");
    expect(Buffer.byteLength(multibyte.name)).toBeLessThanOrEqual(63);
    expect(multibyte.name).not.toContain("\uFFFD");
  });

  it("a target with more than one dot, or a control character, is TAU_E_MATERIALIZE_CONFIG", () => {
    expect(() => parseTarget("a.b.c")).toThrow(expect.objectContaining({ code: "TAU_E_MATERIALIZE_CONFIG" }));
    expect(() => parseTarget("bad\u0000name")).toThrow(expect.objectContaining({ code: "TAU_E_MATERIALIZE_CONFIG" }));
    expect(() => parseTarget("")).toThrow(expect.objectContaining({ code: "TAU_E_MATERIALIZE_CONFIG" }));
  });

  it("identifiers are quoted, never interpolated: a name with quotes stays one identifier on every dialect", () => {
    const nasty = 'x"; DROP TABLE users; --`';
    for (const name of ["postgres", "duckdb", "mysql", "redshift", "bigquery", "snowflake", "clickhouse"] as const) {
      const d = dialectFor(name)!;
      const q = d.quote(nasty);
      const open = q[0]!;
      // The body holds no unescaped closing quote.
      const body = q.slice(1, -1);
      const unescaped = open === "`" && (name === "bigquery" || name === "clickhouse") ? body.replace(/\\[\\`]/g, "") : body.split(open + open).join("");
      expect(unescaped.includes(open)).toBe(false);
    }
  });
});
