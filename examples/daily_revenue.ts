/**
 * daily_revenue — summarises staging.orders into analytics.daily_revenue (one row per day and city) and
 * returns the best day. Params: {"minOrders": 0} filters out thin days.
 */
import { pipeline } from "tau";
import { duckdb_local } from "tau/connectors";

interface DayRow {
  day: string;
  city: string;
  orders: number;
  revenue: number;
}

export default pipeline(
  {
    name: "daily_revenue",
    description: "Revenue per day and city from staging.orders into analytics.daily_revenue",
    tags: ["example", "warehouse", "analytics"],
    dependsOn: ["stage_orders"],
    schedule: "0 6 * * *",
    timeoutSec: 120,
  },
  async (ctx) => {
    const minOrders = Number(ctx.params.minOrders ?? 0);
    await using db = duckdb_local();

    const days = await ctx.step("summarise", async (step) => {
      const rows = await db.extract<DayRow>(
        `SELECT strftime(ordered_on, '%Y-%m-%d') AS day, city,
                count(*)::INTEGER AS orders, round(sum(amount), 2)::DOUBLE AS revenue
         FROM staging.orders GROUP BY ALL HAVING count(*) >= ? ORDER BY day, city`,
        [minOrders],
      );
      step.rowsOut = rows.length;
      return rows;
    });

    await ctx.step("load", async (step) => {
      await db.execute("CREATE SCHEMA IF NOT EXISTS analytics");
      step.rowsIn = days.length;
      step.rowsOut = await db.load(days, { table: "analytics.daily_revenue", mode: "replace" });
    });

    const best = days.reduce<DayRow | null>((top, d) => (top === null || d.revenue > top.revenue ? d : top), null);
    ctx.log("daily revenue ready", { rows: days.length, bestDay: best?.day ?? null });
    return { rows: days.length, best };
  },
);
