/**
 * One API daemon per PostgreSQL database (server/store/database-lock.ts): a second is refused with
 * TAU_E_DATABASE_LOCKED naming the first, the database is free again once the first stops, and a lock
 * whose connection the server killed is taken again.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Client } from "pg";
import { createDaemon, type Daemon } from "../../server";
import { TauError } from "../../server/contract";
import { tempHome } from "./helpers/daemon";
import { freshDatabase, type TestDatabase } from "./helpers/postgres";

let database: TestDatabase;
const homes: Array<{ home: string; remove: () => void }> = [];

beforeAll(async () => {
  database = await freshDatabase();
});
afterAll(async () => {
  await database?.drop();
  for (const h of homes) h.remove();
});

function start(): Promise<Daemon> {
  const home = tempHome();
  homes.push(home);
  return createDaemon({ home: home.home, databaseUrl: database.url, port: 0, executors: 1, logLevel: "silent" });
}

async function lockHolders(): Promise<string[]> {
  const client = new Client({ connectionString: database.url });
  await client.connect();
  try {
    const { rows } = await client.query<{ application_name: string }>(
      `select a.application_name from pg_locks l join pg_stat_activity a on a.pid = l.pid
       where l.locktype = 'advisory' and l.granted and a.datname = current_database() and a.application_name like 'taud-api %'`,
    );
    return rows.map((r) => r.application_name);
  } finally {
    await client.end();
  }
}

describe("the PostgreSQL store's daemon lock", () => {
  it("refuses a second API daemon on the same database, naming the first, and frees the database when the first stops", async () => {
    const first = await start();
    try {
      expect(await lockHolders()).toEqual([expect.stringMatching(new RegExp(` ${process.pid}$`))]);
      const refused = await start().then(
        async (d) => {
          await d.close();
          return null;
        },
        (err: unknown) => err,
      );
      expect(refused).toBeInstanceOf(TauError);
      const err = refused as TauError;
      expect(err.code).toBe("TAU_E_DATABASE_LOCKED");
      expect(err.details).toMatchObject({ pid: process.pid });
      expect(err.message).not.toContain("@127.0.0.1:5432/" + "postgres");
      expect(err.toBody().hint).toMatch(/taud worker/);
    } finally {
      await first.close();
    }
    expect(await lockHolders()).toEqual([]);
    const second = await start();
    await second.close();
  });

  it("takes the lock again when the server kills the lock's connection", async () => {
    const daemon = await start();
    try {
      const admin = new Client({ connectionString: database.url });
      await admin.connect();
      const killed = await admin
        .query("select pg_terminate_backend(pid) from pg_stat_activity where datname = current_database() and application_name like 'taud-api %'")
        .finally(() => admin.end());
      expect(killed.rowCount).toBe(1);
      let holders: string[] = [];
      for (let i = 0; i < 50 && holders.length === 0; i++) {
        await new Promise((r) => setTimeout(r, 100));
        holders = await lockHolders();
      }
      expect(holders).toHaveLength(1);
      // Still serving.
      const res = await fetch(`${daemon.url}/api/status`);
      expect(res.status).toBe(200);
    } finally {
      await daemon.close();
    }
  });
});
