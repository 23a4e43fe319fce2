/**
 * stage_orders — cleans raw orders into staging.orders (typed dates, one row per order joined with the
 * customer's city). Runs inside DuckDB: the rows never travel through the pipeline.
 */
import { pipeline } from "tau";
import { duckdb_local } from "tau/connectors";

export default pipeline(
  {
    name: "stage_orders",
    description: "Clean raw.orders into staging.orders with customer attributes",
    tags: ["example", "warehouse", "staging"],
    dependsOn: ["seed_raw"],
    timeoutSec: 120,
  },
  async (ctx) => {
    await using db = duckdb_local();
    await using step = ctx.step("build_staging");
    await db.execute("CREATE SCHEMA IF NOT EXISTS staging");
    await db.execute(`
      CREATE OR REPLACE TABLE staging.orders AS
      SELECT o.order_id,
             o.customer_id,
             c.city,
             o.sku,
             o.quantity,
             CAST(o.amount AS DECIMAL(12, 2)) AS amount,
             CAST(o.ordered_on AS DATE)        AS ordered_on
      FROM raw.orders o
      JOIN raw.customers c USING (customer_id)
      WHERE o.quantity > 0`);
    const [{ n }] = await db.extract<{ n: number }>("SELECT count(*) AS n FROM staging.orders");
    step.rowsOut = n;
    const columns = await db.getSchema("staging.orders");
    step.meta = { columns: columns.map((c) => `${c.name}:${c.type}`) };
    ctx.log("staging.orders rebuilt", { rows: n });
    return { rows: n };
  },
);
