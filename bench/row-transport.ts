/**
 * bench/row-transport — the bridge's two row transports alone, without a database: 1M rows {id, name, amount,
 * day} in batches of --batch, encoded in a real isolated-vm isolate (the guest's side), copied out as a string,
 * and decoded on the host, each timed separately, best of --repeat.
 *
 *   rows      the row transport (`connector.call load`): JSON.stringify of the row objects in the isolate;
 *             on the host the JSON guard (byte count, iterative depth scan) and JSON.parse
 *   columns   the columnar transport (`connector.load`): runtime/sdk/row-batch.ts's encodeRowBatch in the
 *             isolate; on the host sandbox/executor/row-batch.ts's decodeRowBatch (all its checks included)
 *
 *   npm run build && node --no-node-snapshot dist/bench/row-transport.js [--rows 1000000] [--batch 100000] [--repeat 5]
 *
 * Prints the milliseconds per 1M rows of each side and the ratio rows/columns (how many times faster).
 */
import { build } from "esbuild";
import ivm from "isolated-vm";
import { performance } from "node:perf_hooks";
import { findPackageRoot } from "../sandbox/package-root";
import { parseGuardedJson } from "../sandbox/json-guard";
import { decodeRowBatch } from "../sandbox/executor/row-batch";

const arg = (name: string): string | undefined => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? process.argv[i + 1] : undefined;
};
const ROWS = Number(arg("rows") ?? 1_000_000);
const BATCH = Number(arg("batch") ?? 100_000);
const REPEAT = Number(arg("repeat") ?? 5);
const LIMITS = { maxBytes: 64 * 1024 * 1024, maxDepth: 64 };

async function guestEncoder(): Promise<string> {
  const out = await build({
    stdin: { contents: `import { encodeRowBatch } from "./runtime/sdk/row-batch"; globalThis.encodeRowBatch = encodeRowBatch;`, resolveDir: findPackageRoot(), loader: "ts" },
    bundle: true,
    platform: "neutral",
    format: "iife",
    target: "es2022",
    write: false,
    logLevel: "silent",
  });
  return out.outputFiles[0]!.text;
}

const GUEST = `
globalThis.makeBatch = function (start, count) {
  const batch = [];
  for (let i = start; i < start + count; i++) {
    batch.push({ id: i, name: "customer " + i, amount: (i % 1000) / 7, day: "2024-01-" + String((i % 28) + 1).padStart(2, "0") });
  }
  globalThis.batch = batch;
};
globalThis.encode = function (form) {
  const t0 = Date.now();
  const text = form === "rows"
    ? JSON.stringify({ handle: "h1", method: "load", args: [globalThis.batch, { table: "t", mode: "append" }] })
    : globalThis.encodeRowBatch("h1", { table: "t", mode: "append" }, globalThis.batch);
  globalThis.encodeMs = Date.now() - t0;
  return text;
};`;

async function main(): Promise<void> {
  const isolate = new ivm.Isolate({ memoryLimit: 1024 });
  const context = await isolate.createContext();
  await context.eval(await guestEncoder());
  await context.eval(GUEST);
  const makeBatch = (await context.global.get("makeBatch", { reference: true })) as ivm.Reference;
  const encode = (await context.global.get("encode", { reference: true })) as ivm.Reference;
  const best: Record<string, { encode: number; copy: number; decode: number; bytes: number }> = {};
  for (let round = 0; round < REPEAT; round++) {
    for (const form of ["rows", "columns"] as const) {
      let enc = 0;
      let copy = 0;
      let dec = 0;
      let bytes = 0;
      for (let start = 0; start < ROWS; start += BATCH) {
        await makeBatch.apply(undefined, [start, Math.min(BATCH, ROWS - start)]);
        const t0 = performance.now();
        const text = (await encode.apply(undefined, [form], { result: { copy: true } })) as string;
        const whole = performance.now() - t0;
        const inGuest = (await context.eval("globalThis.encodeMs", { copy: true })) as number;
        enc += inGuest;
        copy += Math.max(0, whole - inGuest);
        bytes += text.length;
        const t1 = performance.now();
        if (form === "rows") {
          const parsed = parseGuardedJson(text, LIMITS);
          if (!parsed.ok) throw new Error(parsed.problem.message);
        } else {
          decodeRowBatch(text, LIMITS);
        }
        dec += performance.now() - t1;
      }
      const was = best[form];
      if (!was || enc + copy + dec < was.encode + was.copy + was.decode) best[form] = { encode: enc, copy, decode: dec, bytes };
    }
  }
  isolate.dispose();
  const per1M = (ms: number): number => Math.round((ms * 1_000_000) / ROWS);
  const total = (f: string): number => best[f].encode + best[f].copy + best[f].decode;
  const report = {
    bench: "row-transport",
    rows: ROWS,
    batch: BATCH,
    repeat: REPEAT,
    rowsTransport: { encodeMs: per1M(best.rows.encode), copyMs: per1M(best.rows.copy), decodeMs: per1M(best.rows.decode), chars: best.rows.bytes },
    columnsTransport: { encodeMs: per1M(best.columns.encode), copyMs: per1M(best.columns.copy), decodeMs: per1M(best.columns.decode), chars: best.columns.bytes },
    speedup: +(total("rows") / total("columns")).toFixed(2),
  };
  process.stderr.write(
    `per 1M rows: row transport ${per1M(total("rows"))} ms (guest ${report.rowsTransport.encodeMs}, copy ${report.rowsTransport.copyMs}, host ${report.rowsTransport.decodeMs}) | ` +
      `columnar ${per1M(total("columns"))} ms (guest ${report.columnsTransport.encodeMs}, copy ${report.columnsTransport.copyMs}, host ${report.columnsTransport.decodeMs}) = ${report.speedup}× faster\n`,
  );
  process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
}

main().catch((err) => {
  process.stderr.write(`${(err as Error).stack ?? String(err)}\n`);
  process.exit(1);
});
