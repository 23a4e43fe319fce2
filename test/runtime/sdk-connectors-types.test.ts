/**
 * What an agent's pipeline file sees of the connector API at deploy time: the SDK's declarations accept the
 * documented uses of stream, query handles, load modes and motherduck, and refuse an upsert without mergeKey.
 */
import { describe, expect, it } from "vitest";
import { compilePipeline } from "../../sandbox/compile";
import { builtSdkTypes } from "./sdk-types-fixture";

const compile = (body: string) =>
  compilePipeline(
    {
      source: `import { pipeline } from "tau";
import { duckdb_local, motherduck, type QueryHandle, type RowStream } from "tau/connectors";
export default pipeline({ name: "typed" }, async (ctx) => {
${body}
});
`,
      filename: "typed.ts",
      typecheck: true,
    },
    { sdkTypesDir: builtSdkTypes() },
  );

describe("the SDK declarations for connectors", () => {
  it("type-check stream, query handles, every load mode and motherduck as documented", async () => {
    await expect(
      compile(`  await using db = duckdb_local();
  await using md = motherduck({ database: "analytics", token: ctx.secret("MOTHERDUCK_TOKEN") });
  const s: RowStream<{ id: number }> = db.stream<{ id: number }>("SELECT 1 AS id", [], { batchSize: 10 });
  for await (const batch of s) batch[0].id.toFixed();
  const q: QueryHandle = db.query("SELECT * FROM t WHERE d > ?", [new Date()]);
  await md.load(q, { table: "t", mode: "replace" });
  await db.load([{ id: 1 }], { table: "t" });
  await db.load([{ id: 1 }], { table: "t", mode: "upsert", mergeKey: ["id"] });
  return await db.load([{ id: 1 }], { table: "t", mode: "upsert", mergeKey: "id" });`),
    ).resolves.toMatchObject({ bundle: expect.any(String) });
  }, 60_000);

  it("refuse an upsert without mergeKey at deploy time", async () => {
    await expect(compile(`  await using db = duckdb_local();\n  await db.load([{ id: 1 }], { table: "t", mode: "upsert" });`)).rejects.toMatchObject({
      code: expect.stringMatching(/^TAU_E_DEPLOY_/),
    });
  }, 60_000);
});
