/**
 * The materialization example through the real binaries: `tau deploy` examples/warehouse_models.ts (after
 * seed_raw), `tau run` it twice, and `tau inspect --last-run` shows each materialize step with its rowsOut
 * and the SQL it ran, in a document that passes inspect.schema.json. Needs `npm run build`.
 */
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { oneDocument } from "../cli/helpers/tau-cli";
import { builtOrThrow, cleanup, ROOT, startDaemon, tau, type Daemon } from "../e2e/harness";

let daemon: Daemon;

beforeAll(async () => {
  builtOrThrow();
  daemon = await startDaemon();
}, 60_000);
afterAll(async () => {
  await daemon?.stop();
  if (daemon) cleanup(daemon.home);
});

describe("examples/warehouse_models.ts through taud and tau", () => {
  it("runs twice to the same warehouse, and tau inspect shows every materialization's statements", async () => {
    for (const name of ["seed_raw", "warehouse_models"]) {
      const deployed = await tau(daemon, ["deploy", join(ROOT, "examples", `${name}.ts`)]);
      expect(deployed.code, deployed.stdout).toBe(0);
    }
    const seed = await tau(daemon, ["run", "seed_raw", "--params", '{"customers": 60, "days": 5}']);
    expect(seed.json.status, seed.stdout).toBe("succeeded");

    const first = await tau(daemon, ["run", "warehouse_models"]);
    expect(first.code, JSON.stringify(first.json.error)).toBe(0);
    expect(first.json.result.customerChanges).toBe(60);
    expect(first.json.result.orderChanges).toBe(seed.json.result.orders);
    expect(first.json.result.snapshotRows).toBeGreaterThan(0);
    const second = await tau(daemon, ["run", "warehouse_models"]);
    expect(second.code, JSON.stringify(second.json.error)).toBe(0);
    expect(second.json.result.customerChanges).toBe(0);
    expect(second.json.result.topCity).toEqual(first.json.result.topCity);

    const inspected = oneDocument(await tau(daemon, ["inspect", "warehouse_models", "--last-run"]), "inspect.schema.json");
    expect(inspected.id).toBe(second.json.id);
    const steps = inspected.steps as Array<{ name: string; status: string; rowsOut: number | null; meta: Record<string, unknown> }>;
    expect(steps.map((s) => s.name)).toEqual([
      "materialize:analytics.dim_customers",
      "materialize:analytics.fct_orders",
      "materialize:analytics.city_customer_snapshots",
      "materialize:analytics.v_city_revenue",
    ]);
    for (const step of steps) {
      expect(step.status).toBe("succeeded");
      expect(step.meta).toMatchObject({ dialect: "duckdb", connector: "duckdb_local", targetTable: step.name.slice("materialize:".length) });
      const statements = step.meta.statements as string[];
      expect(statements.length).toBeGreaterThan(0);
      expect(statements.every((s) => typeof s === "string" && s.length > 0)).toBe(true);
      expect(statements.join("\n")).toContain(step.name.split(".")[1]!);
      expect(step.rowsOut).toBe(step.meta.rowsAffected);
    }
  }, 120_000);
});
