/**
 * For the workers' tests: a fresh PostgreSQL database per test file (`create database tau_w_<random>`,
 * dropped with its connections after), a logger that keeps what it was told, and polling.
 */
import { randomBytes } from "node:crypto";
import pg from "pg";
import type { Logger } from "../../../server/log";

const ADMIN_URL = process.env.TAU_TEST_PG_URL ?? "postgres://postgres@127.0.0.1:5432/postgres";

export interface WorkersDatabase {
  url: string;
  query<T extends pg.QueryResultRow = Record<string, unknown>>(sql: string, values?: unknown[]): Promise<T[]>;
  drop(): Promise<void>;
}

export async function workersDatabase(): Promise<WorkersDatabase> {
  const name = `tau_w_${randomBytes(6).toString("hex")}`;
  await admin(`create database ${name}`);
  const url = new URL(ADMIN_URL);
  url.pathname = `/${name}`;
  const pool = new pg.Pool({ connectionString: url.toString(), max: 2 });
  let dropped = false;
  return {
    url: url.toString(),
    query: async <T extends pg.QueryResultRow>(sql: string, values?: unknown[]) => (await pool.query<T>(sql, values)).rows,
    drop: async () => {
      if (dropped) return;
      dropped = true;
      await pool.end();
      await admin(`drop database if exists ${name} with (force)`);
    },
  };
}

async function admin(statement: string): Promise<void> {
  const client = new pg.Client({ connectionString: ADMIN_URL });
  await client.connect();
  try {
    await client.query(statement);
  } finally {
    await client.end();
  }
}

export interface MemoryLogger extends Logger {
  lines: Array<{ level: string; fields: Record<string, unknown>; message: string }>;
}

export function memoryLogger(): MemoryLogger {
  const lines: MemoryLogger["lines"] = [];
  return {
    lines,
    info: (fields, message) => lines.push({ level: "info", fields, message }),
    warn: (fields, message) => lines.push({ level: "warn", fields, message }),
    error: (fields, message) => lines.push({ level: "error", fields, message }),
  };
}

/** Polls `probe` until it returns a value that is not undefined/false, or fails after `timeoutMs`. */
export async function eventually<T>(probe: () => Promise<T | undefined | false> | T | undefined | false, timeoutMs = 20_000, what = "condition"): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined && value !== false) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}
