/**
 * customer_ltv — lifetime value per customer into analytics.customer_ltv, and a tier per customer.
 * Shows the disposable step form and step meta.
 */
import { pipeline } from "tau";
import { duckdb_local } from "tau/connectors";

export default pipeline(
  {
    name: "customer_ltv",
    description: "Lifetime value and tier per customer into analytics.customer_ltv",
    tags: ["example", "warehouse", "analytics"],
    dependsOn: ["stage_orders"],
    timeoutSec: 120,
  },
  async (ctx) => {
    await using db = duckdb_local();
    const totals = await ctx.step("extract", async (step) => {
      const rows = await db.extract<{ customer_id: number; city: string; orders: number; revenue: number }>(
        `SELECT customer_id, any_value(city) AS city, count(*)::INTEGER AS orders, sum(amount)::DOUBLE AS revenue
         FROM staging.orders GROUP BY customer_id ORDER BY customer_id`,
      );
      step.rowsOut = rows.length;
      return rows;
    });

    await using tiering = ctx.step("tier");
    tiering.rowsIn = totals.length;
    const tiered = totals.map((c) => ({
      ...c,
      revenue: Math.round(c.revenue * 100) / 100,
      tier: c.revenue >= 400 ? "gold" : c.revenue >= 150 ? "silver" : "bronze",
    }));
    const counts = { gold: 0, silver: 0, bronze: 0 };
    for (const c of tiered) counts[c.tier as keyof typeof counts]++;
    tiering.meta = counts;
    await db.execute("CREATE SCHEMA IF NOT EXISTS analytics");
    tiering.rowsOut = await db.load(tiered, { table: "analytics.customer_ltv", mode: "replace" });
    return { customers: tiered.length, tiers: counts };
  },
);
