/**
 * A fresh PostgreSQL database per test file on the local server (127.0.0.1:5432, trust auth; override the
 * server with TAU_TEST_PG_URL): `create database tau_t_<random>`, dropped (connections terminated) after.
 */
import { randomBytes } from "node:crypto";
import { Client } from "pg";

export const PG_ADMIN_URL = process.env.TAU_TEST_PG_URL ?? "postgres://postgres@127.0.0.1:5432/postgres";

export interface TestDatabase {
  name: string;
  /** The postgres:// URL of the new database. */
  url: string;
  /** Drops the database; safe to call twice. */
  drop: () => Promise<void>;
}

export async function freshDatabase(): Promise<TestDatabase> {
  const name = `tau_t_${randomBytes(6).toString("hex")}`;
  await admin(`create database ${name}`);
  const url = new URL(PG_ADMIN_URL);
  url.pathname = `/${name}`;
  let dropped = false;
  return {
    name,
    url: url.toString(),
    drop: async () => {
      if (dropped) return;
      dropped = true;
      await admin(`drop database if exists ${name} with (force)`);
    },
  };
}

async function admin(statement: string): Promise<void> {
  const client = new Client({ connectionString: PG_ADMIN_URL });
  await client.connect();
  try {
    await client.query(statement);
  } finally {
    await client.end();
  }
}

/** The store's backends, for `describe.each`: SQLite in the home, and a fresh PostgreSQL database. */
export const STORE_BACKENDS = ["sqlite", "postgresql"] as const;
export type StoreBackend = (typeof STORE_BACKENDS)[number];

/** Where a store of `backend` keeps its state: null for SQLite, a fresh database's URL for PostgreSQL. */
export async function backendDatabase(backend: StoreBackend): Promise<{ databaseUrl: string | null; drop: () => Promise<void> }> {
  if (backend === "sqlite") return { databaseUrl: null, drop: async () => undefined };
  const db = await freshDatabase();
  return { databaseUrl: db.url, drop: db.drop };
}
