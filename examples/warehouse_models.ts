/**
 * warehouse_models — models over the raw shop data with tau/materializations, in the embedded DuckDB
 * warehouse: a customer dimension with history (SCD type 2), an incrementally merged order fact, a daily
 * snapshot of customer counts per city (last 7 kept) and a revenue view. Run it twice: nothing changes the
 * second time. `tau inspect warehouse_models --last-run` shows the SQL each materialization ran.
 */
import { pipeline } from "tau";
import { duckdb_local } from "tau/connectors";
import { IncrementalConfig, MaterializationConfig, MaterializationType, SCDType2Config, SnapshotConfig } from "tau/materializations";

export default pipeline(
  {
    name: "warehouse_models",
    description: "Customer history, order fact, city snapshots and a revenue view, materialized in DuckDB",
    tags: ["example", "warehouse", "analytics"],
    dependsOn: ["seed_raw"],
    timeoutSec: 120,
  },
  async (ctx) => {
    await using db = duckdb_local();
    await db.execute("CREATE SCHEMA IF NOT EXISTS analytics");

    const customers = await ctx.materialize(
      new SCDType2Config({
        targetTable: "analytics.dim_customers",
        sourceQuery: "SELECT customer_id, name, city FROM raw.customers",
        uniqueKey: "customer_id",
        trackedColumns: ["name", "city"],
        invalidateHardDeletes: true,
      }),
      { connector: db },
    );

    const orders = await ctx.materialize(
      new IncrementalConfig({
        targetTable: "analytics.fct_orders",
        sourceQuery: "SELECT order_id, customer_id, sku, quantity, amount, ordered_on FROM raw.orders",
        uniqueKey: "order_id",
        onSchemaChange: "append_new_columns",
      }),
      { connector: db },
    );

    const snapshot = await ctx.materialize(
      new SnapshotConfig({
        targetTable: "analytics.city_customer_snapshots",
        sourceQuery: "SELECT city, count(*)::INTEGER AS customers FROM raw.customers GROUP BY city",
        retainSnapshots: 7,
      }),
      { connector: db },
    );

    await ctx.materialize(
      new MaterializationConfig({
        targetTable: "analytics.v_city_revenue",
        sourceQuery: `SELECT c.city, sum(o.amount)::DOUBLE AS revenue, count(*)::INTEGER AS orders
                      FROM analytics.fct_orders o JOIN analytics.dim_customers c
                        ON c.customer_id = o.customer_id AND c.is_current
                      GROUP BY c.city`,
        strategy: MaterializationType.VIEW,
      }),
      { connector: db },
    );

    const [top] = await db.extract<{ city: string; revenue: number }>("SELECT city, revenue FROM analytics.v_city_revenue ORDER BY revenue DESC LIMIT 1");
    ctx.log("models built", { customers: customers.rowsAffected, orders: orders.rowsAffected, snapshot: snapshot.rowsAffected });
    return {
      customerChanges: customers.rowsAffected,
      orderChanges: orders.rowsAffected,
      snapshotRows: snapshot.rowsAffected,
      topCity: top ?? null,
    };
  },
);
