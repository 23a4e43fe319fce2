/**
 * The store's schema is its migrations (server/store/migrations/<dialect>): they must build exactly what
 * the entities describe on both dialects, a database made before migrations must be taken over with its
 * rows, and a PostgreSQL URL that leads nowhere must be a clear error.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { join } from "node:path";
import { MikroORM as SqliteORM } from "@mikro-orm/better-sqlite";
import { Migrator } from "@mikro-orm/migrations";
import { Store } from "../../server/store";
import { Database } from "../../server/store/database";
import { ENTITIES } from "../../server/store/entities";
import { MIGRATIONS, MIGRATIONS_TABLE } from "../../server/store/migrate";
import { TauError } from "../../server/contract";
import { tempHome } from "./helpers/daemon";
import { Client } from "pg";
import { backendDatabase, freshDatabase, PG_ADMIN_URL, STORE_BACKENDS } from "./helpers/postgres";

describe.each(STORE_BACKENDS)("migrations on %s", (backend) => {
  const home = tempHome();
  let db: Database;
  let drop: () => Promise<void> = async () => undefined;

  beforeAll(async () => {
    const database = await backendDatabase(backend);
    drop = database.drop;
    db = await Database.open({ home: home.home, url: database.databaseUrl });
  });
  afterAll(async () => {
    await db?.close();
    await drop();
    home.remove();
  });

  it("build a fresh database that the entities find nothing to change in", async () => {
    expect(MIGRATIONS[backend].length).toBeGreaterThan(0);
    expect((await db.orm.schema.getUpdateSchemaSQL({ wrap: false })).trim()).toBe("");
  });

  it("record every migration as executed, so opening again runs none", async () => {
    const executed = await db.query("test", (em) => em.getConnection().execute<Array<{ name: string }>>(`select name from ${MIGRATIONS_TABLE} order by id`));
    expect(executed.map((r) => r.name)).toEqual(MIGRATIONS[backend].map((m) => m.name));
  });
});

describe("a SQLite database made before migrations existed", () => {
  const home = tempHome();
  afterAll(() => home.remove());

  it("is baselined at open, gains what it lacked of the first migration, and keeps its rows", async () => {
    const file = join(home.home, "tau.db");
    // What the daemon made before migrations: the first migration's schema (an updateSchema() of that
    // day's entities), no migrations table — and, like a file from an even older daemon, a column short.
    const legacy = await SqliteORM.init({
      dbName: file,
      entities: ENTITIES,
      baseDir: home.home,
      metadataCache: { enabled: false },
      debug: false,
      extensions: [Migrator],
      migrations: { migrationsList: MIGRATIONS.sqlite.slice(0, 1), tableName: "scratch_migrations", silent: true, snapshot: false },
    });
    await (legacy.getMigrator() as Migrator).up();
    const connection = legacy.em.getConnection();
    await connection.execute("drop table scratch_migrations");
    await connection.execute("alter table pipeline drop column catch_up");
    await connection.execute("insert into tenant (id, name, created_at) values ('local', 'Local', 1764000000000)");
    await connection.execute(
      `insert into pipeline (tenant_id, name, current_version, filename, description, enabled, tags, depends_on, retries, retry_delay_sec, max_concurrent_runs, created_at, updated_at)
       values ('local', 'old_one', 1, 'old_one.ts', '', 1, '[]', '[]', 0, 10, 1, 1764000000000, 1764000000000)`,
    );
    await connection.execute(
      `insert into run (id, tenant_id, pipeline_id, version, status, "trigger", params, queued_at, finished_at, attempt, max_attempts)
       values ('run_old', 'local', 1, 1, 'succeeded', 'manual', '{"a":1}', 1764000000000, 1764000000500, 1, 1)`,
    );
    await legacy.close(true);

    const store = await Store.open({ home: home.home, onEvents: () => undefined });
    try {
      expect((await store.pipelines.list("local")).map((p) => p.name)).toEqual(["old_one"]);
      expect(await store.runs.record("local", "run_old")).toMatchObject({ status: "succeeded", params: { a: 1 }, finishedAt: 1764000000500 });
      expect(await store.runs.lastSucceededAt(1)).toBe(1764000000500);
      // The column it lacked is back, and usable.
      await store.schedules.change("local", "old_one", { catchUp: 3 });
      expect((await store.pipelines.findByName("local", "old_one"))!.catchUp).toBe(3);
    } finally {
      await store.close();
    }
    const again = await Database.open({ home: home.home });
    try {
      const executed = await again.query("test", (em) => em.getConnection().execute<Array<{ name: string }>>(`select name from ${MIGRATIONS_TABLE}`));
      expect(executed.map((r) => r.name)).toEqual(MIGRATIONS.sqlite.map((m) => m.name));
      expect((await again.orm.schema.getUpdateSchemaSQL({ wrap: false })).trim()).toBe("");
    } finally {
      await again.close();
    }
  });
});

describe("a PostgreSQL URL that leads nowhere", () => {
  it("fails to open with TAU_E_STORE_FAILED, a hint, and no password", async () => {
    const home = tempHome();
    try {
      const err = await Store.open({ home: home.home, databaseUrl: "postgres://tau:s3cret@127.0.0.1:1/tau", onEvents: () => undefined }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(TauError);
      const body = (err as TauError).toBody();
      expect(body).toMatchObject({ code: "TAU_E_STORE_FAILED", details: { url: "postgres://tau:***@127.0.0.1:1/tau", reachable: false } });
      expect(body.hint).toContain("TAU_DATABASE_URL");
      expect(JSON.stringify(body)).not.toContain("s3cret");
    } finally {
      home.remove();
    }
  });
});

describe("a store on PostgreSQL", () => {
  let database: Awaited<ReturnType<typeof freshDatabase>>;
  beforeAll(async () => {
    database = await freshDatabase();
  });
  afterAll(async () => {
    await database?.drop();
  });

  it("is migrated once when two processes open it at the same time", async () => {
    const homes = [tempHome(), tempHome()];
    const stores = await Promise.all(homes.map((h) => Store.open({ home: h.home, databaseUrl: database.url, onEvents: () => undefined })));
    try {
      const client = new Client({ connectionString: database.url });
      await client.connect();
      const executed = await client.query(`select name from ${MIGRATIONS_TABLE}`).finally(() => client.end());
      expect(executed.rows.map((r: { name: string }) => r.name)).toEqual(MIGRATIONS.postgresql.map((m) => m.name));
    } finally {
      await Promise.all(stores.map((s) => s.close()));
      for (const h of homes) h.remove();
    }
  });

  it("survives the server dropping its connections: the next read reconnects", async () => {
    const home = tempHome();
    const store = await Store.open({ home: home.home, databaseUrl: database.url, onEvents: () => undefined });
    try {
      await store.pipelines.ensureTenant("local", "Local");
      expect(await store.events.head()).toBe(0);
      const admin = new Client({ connectionString: PG_ADMIN_URL });
      await admin.connect();
      const killed = await admin
        .query("select pg_terminate_backend(pid) from pg_stat_activity where datname = $1 and pid <> pg_backend_pid()", [database.name])
        .finally(() => admin.end());
      expect(killed.rowCount).toBeGreaterThan(0);
      await new Promise((r) => setTimeout(r, 100));
      // Idle connections that died are dropped by the pools (no crash); reads and ORM queries go on.
      expect(await store.events.head()).toBe(0);
      expect((await store.tenants.list()).map((t) => t.id)).toEqual(["local"]);
    } finally {
      await store.close();
      home.remove();
    }
  });
});
