/**
 * seed_raw — generates a small, deterministic shop dataset (customers and orders) and loads it into the
 * embedded DuckDB warehouse as raw.customers and raw.orders. Params: {"customers": 200, "days": 30}.
 */
import { pipeline } from "tau";
import { duckdb_local } from "tau/connectors";

/** A small seeded PRNG (mulberry32) so every run produces the same data. */
function rng(seed: number): () => number {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const CITIES = ["Berlin", "Lisbon", "Oslo", "Austin", "Osaka", "Lagos", "Lima", "Perth"];
const PRODUCTS = [
  { sku: "tea-01", price: 4.5 },
  { sku: "mug-02", price: 12 },
  { sku: "pot-03", price: 39.9 },
  { sku: "bag-04", price: 7.25 },
];

export default pipeline(
  {
    name: "seed_raw",
    description: "Generate sample customers and orders into raw.* in the local DuckDB warehouse",
    tags: ["example", "warehouse", "raw"],
    timeoutSec: 120,
  },
  async (ctx) => {
    const customerCount = Number(ctx.params.customers ?? 200);
    const days = Number(ctx.params.days ?? 30);
    const random = rng(42);
    await using db = duckdb_local();

    const customers = await ctx.step("generate_customers", async (step) => {
      const rows = Array.from({ length: customerCount }, (_, i) => ({
        customer_id: i + 1,
        name: `customer_${String(i + 1).padStart(4, "0")}`,
        city: CITIES[Math.floor(random() * CITIES.length)],
        signed_up: new Date(Date.UTC(2026, 0, 1 + Math.floor(random() * 60))).toISOString().slice(0, 10),
      }));
      step.rowsOut = rows.length;
      return rows;
    });

    const orders = await ctx.step("generate_orders", async (step) => {
      const rows: { order_id: number; customer_id: number; sku: string; quantity: number; amount: number; ordered_on: string }[] = [];
      for (let day = 0; day < days; day++) {
        const perDay = 20 + Math.floor(random() * 30);
        for (let n = 0; n < perDay; n++) {
          const product = PRODUCTS[Math.floor(random() * PRODUCTS.length)];
          const quantity = 1 + Math.floor(random() * 4);
          rows.push({
            order_id: rows.length + 1,
            customer_id: 1 + Math.floor(random() * customerCount),
            sku: product.sku,
            quantity,
            amount: Math.round(product.price * quantity * 100) / 100,
            ordered_on: new Date(Date.UTC(2026, 2, 1 + day)).toISOString().slice(0, 10),
          });
        }
      }
      step.rowsIn = customers.length;
      step.rowsOut = rows.length;
      return rows;
    });

    await ctx.step("load", async (step) => {
      await db.execute("CREATE SCHEMA IF NOT EXISTS raw");
      step.rowsIn = customers.length + orders.length;
      step.rowsOut =
        (await db.load(customers, { table: "raw.customers", mode: "replace" })) +
        (await db.load(orders, { table: "raw.orders", mode: "replace" }));
    });

    ctx.log("raw data loaded", { customers: customers.length, orders: orders.length });
    return { customers: customers.length, orders: orders.length };
  },
);
