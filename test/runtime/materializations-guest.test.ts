/**
 * `ctx.materialize` and the config classes inside a real isolate with the guest runtime (GuestHarness): what
 * the guest sends on the `materialize` operation, which mistakes it catches itself (at the pipeline's line),
 * and that a pipeline patching built-ins or forging a config cannot change what is sent.
 */
import { afterEach, describe, expect, it } from "vitest";
import { locateGuestError } from "../../sandbox/source-map";
import { GuestHarness, lineOf } from "./guest-harness";

const HEADER = `import { pipeline } from "tau";
import { duckdb_local, http_api } from "tau/connectors";
import { IncrementalConfig, MaterializationConfig, MaterializationType, SCDType2Config } from "tau/materializations";
`;

let harness: GuestHarness | null = null;
afterEach(async () => {
  await harness?.dispose();
  harness = null;
});

async function run(body: string): Promise<{ h: GuestHarness; source: string; answer: { ok: boolean; result?: any; error?: Record<string, any> } }> {
  const source = `${HEADER}export default pipeline({ name: "mat_guest" }, async (ctx: any) => {\n${body}\n});\n`;
  harness = await GuestHarness.create(source, { typecheck: false });
  const { answer } = await harness.run({ runId: "run_guest_1" });
  return { h: harness, source, answer };
}

describe("ctx.materialize in the guest", () => {
  it("sends the validated spec, the connector's handle and the dialect (not the run id: the host knows it) as one materialize operation, in a step named after the target", async () => {
    const { h, answer } = await run(`
  await using db = duckdb_local();
  try {
    await ctx.materialize(new SCDType2Config({ targetTable: "analytics.dim_c", sourceQuery: "SELECT * FROM raw.c;", uniqueKey: "id" }), { connector: db, dialect: "duckdb" });
  } catch (err: any) { return err.code; }`);
    // The test host does not implement materialize: the answer is its refusal, after the op was sent.
    expect(answer).toEqual({ ok: true, result: "TAU_E_BRIDGE_OP_UNKNOWN" });
    const [sent] = h.ofOp("materialize");
    expect(sent).toEqual({
      handle: "h1",
      dialect: "duckdb",
      spec: {
        strategy: "scd_type_2",
        targetTable: "analytics.dim_c",
        sourceQuery: "SELECT * FROM raw.c",
        preHook: [],
        postHook: [],
        uniqueKey: ["id"],
        trackedColumns: [],
        validFromColumn: "valid_from",
        validToColumn: "valid_to",
        isCurrentColumn: "is_current",
        hashColumn: "row_hash",
        invalidateHardDeletes: false,
        updatedAtColumn: null,
      },
    });
    expect(h.steps()).toEqual([expect.objectContaining({ name: "materialize:analytics.dim_c", status: "failed" })]);
  });

  it("refuses a non-SQL connector, a made-up dialect, a missing options argument and the seed's positional form at the line of the call, before any operation", async () => {
    const { h, source, answer } = await run(`
  const api = http_api({ baseUrl: "http://127.0.0.1:9" });
  await using db = duckdb_local();
  const cfg = new MaterializationConfig({ targetTable: "v", sourceQuery: "SELECT 1", strategy: MaterializationType.VIEW });
  const out: any[] = [];
  try { await ctx.materialize(cfg, { connector: api }); } catch (err: any) { out.push([err.code, err.details.field, err.stack]); } // <- api
  try { await ctx.materialize(cfg, { connector: db, dialect: "oracle" }); } catch (err: any) { out.push([err.code, err.details.field]); }
  try { await ctx.materialize(cfg); } catch (err: any) { out.push([err.code, err.details.field]); }
  try { await ctx.materialize(cfg, { connector: { kind: "duckdb_local" } }); } catch (err: any) { out.push([err.code, err.details.field]); }
  try { await ctx.materialize(cfg, db, "duckdb"); } catch (err: any) { out.push([err.code, err.details.field, err.hint]); }
  return out;`);
    expect(answer.ok).toBe(true);
    const [first, ...rest] = answer.result as unknown[][];
    expect(first!.slice(0, 2)).toEqual(["TAU_E_MATERIALIZE_CONFIG", "connector"]);
    const line = lineOf(source, "<- api");
    expect(locateGuestError(first![2], h.compiled.sourceMap)).toEqual({ line, column: source.split("\n")[line - 1]!.indexOf("ctx.materialize") + 5 });
    expect(rest).toEqual([
      ["TAU_E_MATERIALIZE_CONFIG", "dialect"],
      ["TAU_E_MATERIALIZE_CONFIG", "options"],
      ["TAU_E_MATERIALIZE_CONFIG", "connector"],
      ["TAU_E_MATERIALIZE_CONFIG", "options", 'Write ctx.materialize(config, { connector: db }) (and dialect: "…" as an option too).'],
    ]);
    expect(h.ofOp("materialize")).toEqual([]);
  });

  it("sends the spec kept at construction even when the pipeline patches built-ins or tampers with the config afterwards", async () => {
    const { h, answer } = await run(`
  await using db = duckdb_local();
  const cfg = new IncrementalConfig({ targetTable: "fct", sourceQuery: "SELECT 1 AS id", uniqueKey: ["id"] });
  let tampered = 0;
  try { (cfg as any).targetTable = "other"; } catch { tampered++; }
  try { (cfg as any).uniqueKey.push("x"); } catch { tampered++; }
  try { Object.defineProperty(cfg, "sourceQuery", { value: "DROP TABLE x" }); } catch { tampered++; }
  Array.prototype.push = function () { throw new Error("patched push"); };
  JSON.stringify = () => "{}";
  Object.keys = () => [];
  try { await ctx.materialize(cfg, { connector: db }); } catch {}
  return tampered;`);
    expect(answer).toEqual({ ok: true, result: 3 });
    expect(h.ofOp("materialize")[0]).toMatchObject({ dialect: null, spec: { strategy: "incremental", targetTable: "fct", sourceQuery: "SELECT 1 AS id", uniqueKey: ["id"], incrementalStrategy: "merge" } });
  });

  it("accepts a plain spec object validated in the guest, refuses a forged one naming the field, passes a getter's own error through, and lets a pipeline subclass a config", async () => {
    const { h, answer } = await run(`
  await using db = duckdb_local();
  const out: unknown[] = [];
  try { await ctx.materialize({ strategy: "view", targetTable: "v1", sourceQuery: "SELECT 1" }, { connector: db }); } catch (err: any) { out.push(err.code); }
  try { await ctx.materialize({ strategy: "view", targetTable: "v1", sourceQuery: "SELECT 1", target_table: "x" }, { connector: db }); } catch (err: any) { out.push([err.code, err.details.field]); }
  const hostile = { strategy: "view", targetTable: "v1", get sourceQuery(): string { throw new RangeError("from a getter"); } };
  try { await ctx.materialize(hostile, { connector: db }); } catch (err: any) { out.push([err.name, err.message]); }
  class DailyOrders extends IncrementalConfig {
    constructor() { super({ targetTable: "daily", sourceQuery: "SELECT 1 AS id", uniqueKey: "id" }); }
  }
  out.push([new DailyOrders().strategy, new DailyOrders() instanceof IncrementalConfig]);
  return out;`);
    expect(answer.result).toEqual([
      "TAU_E_BRIDGE_OP_UNKNOWN",
      ["TAU_E_MATERIALIZE_CONFIG", "target_table"],
      ["RangeError", "from a getter"],
      ["incremental", true],
    ]);
    expect(h.ofOp("materialize")).toHaveLength(1);
    expect(h.ofOp("materialize")[0]!.spec).toEqual({ strategy: "view", targetTable: "v1", sourceQuery: "SELECT 1", preHook: [], postHook: [] });
  });
});
