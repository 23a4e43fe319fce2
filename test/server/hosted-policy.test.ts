/**
 * Hosted mode's options, per-tenant policies (schema, validation, the concurrentRuns limit) and secrets
 * (encrypted at rest, local-mode precedence over the environment), against real in-process daemons.
 */
import Ajv2020 from "ajv/dist/2020";
import { existsSync, readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DEFAULT_LIMITS, HOSTED_DEFAULT_POLICY, LOCAL_POLICY, POLICY_SCHEMA, validatePolicy } from "../../policies";
import { compileDaemonOptions, type Daemon } from "../../server";
import type { RunView } from "../../server/contract";
import { busyWait, pipelineSource, startDaemon, tempHome } from "./helpers/daemon";
import { call, SECRET_KEY, startHosted, token } from "./hosted-helpers";

/** better-sqlite3 ships no types: the little used here. */
type SqliteDatabase = { prepare(sql: string): { get(...params: unknown[]): unknown }; close(): void };
const Database = createRequire(__filename)("better-sqlite3") as new (file: string, options: { readonly: boolean }) => SqliteDatabase;

describe("hosted mode options", () => {
  it("default to local mode, and refuse hosted mode without a verify key or a secret key, naming the option", () => {
    expect(compileDaemonOptions([], {})).toMatchObject({ mode: "local", adminTenant: "admin", jwtSecret: null, secretKey: null });
    const refused = (argv: string[], env: Record<string, string>): unknown => {
      try {
        compileDaemonOptions(argv, env);
        return null;
      } catch (err) {
        return (err as { code: string; details: unknown }).details;
      }
    };
    expect(refused(["--mode", "hosted"], {})).toEqual({ option: "TAU_JWT_SECRET" });
    expect(refused([], { TAU_MODE: "hosted", TAU_JWT_SECRET: "short" })).toEqual({ option: "TAU_JWT_SECRET" });
    expect(refused([], { TAU_MODE: "hosted", TAU_JWT_ALG: "RS256" })).toEqual({ option: "TAU_JWT_PUBLIC_KEY" });
    expect(refused([], { TAU_MODE: "hosted", TAU_JWT_ALG: "none", TAU_JWT_SECRET: "x".repeat(40) })).toEqual({ option: "TAU_JWT_ALG" });
    expect(refused([], { TAU_MODE: "hosted", TAU_JWT_SECRET: "x".repeat(40) })).toEqual({ option: "TAU_SECRET_KEY" });
    expect(refused([], { TAU_MODE: "hosted", TAU_JWT_SECRET: "x".repeat(40), TAU_SECRET_KEY: "not-32-bytes" })).toEqual({ option: "TAU_SECRET_KEY" });
    expect(refused(["--mode", "cloud"], {})).toEqual({ option: "--mode" });
    expect(refused([], { TAU_ADMIN_TENANT: "Bad Name" })).toEqual({ option: "TAU_ADMIN_TENANT" });
    // Keys are never command-line flags (they would show in `ps`).
    expect(refused(["--jwt-secret", "x".repeat(40)], {})).toEqual({ option: "--jwt-secret" });
    expect(compileDaemonOptions([], { TAU_MODE: "hosted", TAU_JWT_SECRET: "x".repeat(40), TAU_SECRET_KEY: SECRET_KEY })).toMatchObject({ mode: "hosted" });
  });
});

describe("the policy document", () => {
  it("is published in docs/policies.md exactly as policies/ exports its schema", () => {
    const doc = readFileSync(join(__dirname, "../../docs/policies.md"), "utf8");
    const published = /## JSON Schema[\s\S]*?```json\n([\s\S]*?)\n```/.exec(doc)?.[1];
    expect(published && JSON.parse(published)).toEqual(POLICY_SCHEMA);
  });

  it("has a JSON Schema that agrees with validatePolicy on valid and invalid documents", () => {
    expect(POLICY_SCHEMA.required).toEqual(["connectors", "egress", "secrets", "duckdbAnyPath", "limits"]);
    expect([...POLICY_SCHEMA.properties.limits.required].sort()).toEqual(Object.keys(DEFAULT_LIMITS).sort());
    for (const policy of [LOCAL_POLICY, HOSTED_DEFAULT_POLICY]) expect(validatePolicy(policy)).toEqual([]);
    expect(HOSTED_DEFAULT_POLICY.limits.concurrentRuns).toBe(4);
    // The schema (ajv, fastify's validator) and validatePolicy accept and refuse the same documents.
    const ajv = new Ajv2020({ strict: false });
    const schemaValid = ajv.compile(POLICY_SCHEMA);
    const limits = HOSTED_DEFAULT_POLICY.limits;
    const documents: unknown[] = [
      LOCAL_POLICY,
      HOSTED_DEFAULT_POLICY,
      { ...HOSTED_DEFAULT_POLICY, egress: [{ host: "*.example.com", ports: [443] }, { cidr: "10.0.0.0/8" }] },
      { ...HOSTED_DEFAULT_POLICY, extra: true },
      { ...HOSTED_DEFAULT_POLICY, egress: [{ ports: [80] }] },
      { ...HOSTED_DEFAULT_POLICY, egress: [{ host: "a", ports: [0] }] },
      { ...HOSTED_DEFAULT_POLICY, connectors: "all" },
      { ...HOSTED_DEFAULT_POLICY, duckdbAnyPath: "yes" },
      { ...HOSTED_DEFAULT_POLICY, limits: { ...limits, memoryMb: 0 } },
      { ...HOSTED_DEFAULT_POLICY, limits: { ...limits, concurrentRuns: 2.5 } },
      { ...HOSTED_DEFAULT_POLICY, limits: { ...limits, unknown: 1 } },
      { connectors: [], egress: [], secrets: [], duckdbAnyPath: false },
    ];
    for (const document of documents) expect(validatePolicy(document).length === 0, JSON.stringify(document)).toBe(schemaValid(document));
    const problems = validatePolicy({ ...HOSTED_DEFAULT_POLICY, extra: 1, egress: [{ cidr: "10.0.0.0/33" }], limits: { ...DEFAULT_LIMITS, concurrentRuns: 1.5, bogus: 1 } });
    expect(problems).toEqual(
      expect.arrayContaining([
        expect.stringContaining("extra is not a policy field"),
        "egress cidr '10.0.0.0/33' is not an address/prefix",
        "limits.concurrentRuns must be an integer",
        "limits.bogus is not a limit",
      ]),
    );
  });
});

describe("per-tenant policies and secrets in hosted mode", () => {
  const home = tempHome();
  let daemon: Daemon;
  const platform = token("admin", "admin");
  let operator: string;

  beforeAll(async () => {
    // In the executors' environment, but hosted runs must never read it.
    process.env.TAU_TEST_HOSTED_ENV_SECRET = "from-the-daemon-environment";
    daemon = await startHosted(home.home, { concurrency: 8, executors: 2 });
    expect((await call(`${daemon.url}/api/tenants`, platform, { method: "POST", body: { id: "pol" } })).status).toBe(201);
    operator = token("pol", "operator");
  }, 60_000);
  afterAll(async () => {
    await daemon?.close();
    home.remove();
    delete process.env.TAU_TEST_HOSTED_ENV_SECRET;
  });

  it("answers the hosted default until a platform admin stores one, then runs get the stored one", async () => {
    const before = await call<{ source: string; policy: unknown }>(`${daemon.url}/api/policy`, operator);
    expect(before.body).toEqual({ tenant: "pol", source: "default", policy: HOSTED_DEFAULT_POLICY });
    const invalid = await call<{ error: { code: string; details: { problems: string[] } } }>(`${daemon.url}/api/policy?tenant=pol`, platform, {
      method: "PUT",
      body: { connectors: "all" },
    });
    expect(invalid.status).toBe(400);
    expect(invalid.body.error.code).toBe("TAU_E_POLICY_INVALID");
    expect(invalid.body.error.details.problems).toContain("connectors must be an array of strings");
    const missing = await call<{ error: { code: string } }>(`${daemon.url}/api/policy?tenant=nope`, platform, { method: "PUT", body: HOSTED_DEFAULT_POLICY });
    expect(missing.body.error.code).toBe("TAU_E_TENANT_NOT_FOUND");

    const one = { ...HOSTED_DEFAULT_POLICY, limits: { ...HOSTED_DEFAULT_POLICY.limits, concurrentRuns: 1 } };
    const stored = await call(`${daemon.url}/api/policy?tenant=pol`, platform, { method: "PUT", body: one });
    expect(stored.status).toBe(200);
    expect((await call<{ source: string }>(`${daemon.url}/api/policy`, operator)).body.source).toBe("stored");

    // concurrentRuns 1: two pipelines of the tenant, each busy 400 ms, never overlap.
    for (const name of ["slow_a", "slow_b"]) {
      const deployed = await call(`${daemon.url}/api/pipelines`, operator, { method: "POST", body: { source: pipelineSource(name, `  ${busyWait("400")}\n  return 1;`), filename: `${name}.ts` } });
      expect(deployed.status).toBe(201);
    }
    const [a, b] = await Promise.all(
      ["slow_a", "slow_b"].map((name) => call<RunView>(`${daemon.url}/api/pipelines/${name}/runs`, operator, { method: "POST", body: { wait: true, waitMs: 30_000 } })),
    );
    expect([a!.body.status, b!.body.status]).toEqual(["succeeded", "succeeded"]);
    const [first, second] = [a!.body, b!.body].sort((x, y) => Date.parse(x.startedAt!) - Date.parse(y.startedAt!));
    expect(Date.parse(second!.startedAt!)).toBeGreaterThanOrEqual(Date.parse(first!.finishedAt!));
  }, 60_000);

  it("never lets ctx.secret read the daemon's environment, even when the policy allows every secret", async () => {
    const all = { ...HOSTED_DEFAULT_POLICY, secrets: ["*"], limits: { ...HOSTED_DEFAULT_POLICY.limits, concurrentRuns: 1 } };
    expect((await call(`${daemon.url}/api/policy?tenant=pol`, platform, { method: "PUT", body: all })).status).toBe(200);
    for (const name of ["TAU_TEST_HOSTED_ENV_SECRET", "TAU_SECRET_KEY", "PATH"]) {
      const pipeline = `env_${name.toLowerCase()}`;
      const source = pipelineSource(pipeline, `  return ctx.secret(${JSON.stringify(name)});`);
      expect((await call(`${daemon.url}/api/pipelines`, operator, { method: "POST", body: { source, filename: `${pipeline}.ts` } })).status).toBe(201);
      const run = await call<RunView>(`${daemon.url}/api/pipelines/${pipeline}/runs`, operator, { method: "POST", body: { wait: true, waitMs: 30_000 } });
      expect(run.body.error?.code, name).toBe("TAU_E_SECRET_NOT_FOUND");
    }
  }, 60_000);

  it("stores secret values only encrypted, and lists names without values", async () => {
    const value = "pg-password-that-must-not-leak-42";
    const set = await call(`${daemon.url}/api/secrets/WAREHOUSE_PW`, operator, { method: "PUT", body: { value } });
    expect(set.body).toEqual({ name: "WAREHOUSE_PW", created: true });
    const replaced = await call(`${daemon.url}/api/secrets/WAREHOUSE_PW`, operator, { method: "PUT", body: { value: `${value}-2` } });
    expect(replaced.body).toEqual({ name: "WAREHOUSE_PW", created: false });
    const listed = await call<Array<Record<string, unknown>>>(`${daemon.url}/api/secrets`, operator);
    expect(listed.body).toEqual([{ name: "WAREHOUSE_PW", createdAt: expect.any(String), updatedAt: expect.any(String) }]);
    const badName = await call<{ error: { code: string } }>(`${daemon.url}/api/secrets/1bad`, operator, { method: "PUT", body: { value } });
    expect(badName.body.error.code).toBe("TAU_E_REQUEST_INVALID");
    // At rest: the row holds `v1:` ciphertext, not the value.
    const db = new Database(join(home.home, "tau.db"), { readonly: true });
    try {
      const row = db.prepare("select value from tenant_secret where tenant_id = ? and name = ?").get("pol", "WAREHOUSE_PW") as { value: string };
      expect(row.value.startsWith("v1:")).toBe(true);
      expect(row.value).not.toContain(value);
    } finally {
      db.close();
    }
  });

  it("keeps tenants, policies and secrets across a restart", async () => {
    await daemon.close();
    daemon = await startHosted(home.home, { concurrency: 8, executors: 2 });
    const policy = await call<{ source: string; policy: { secrets: string[] } }>(`${daemon.url}/api/policy`, operator);
    expect(policy.status).toBe(200);
    expect(policy.body.source).toBe("stored");
    expect(policy.body.policy.secrets).toEqual(["*"]);
    const secrets = await call<Array<{ name: string }>>(`${daemon.url}/api/secrets`, operator);
    expect(secrets.body.map((x) => x.name)).toEqual(["WAREHOUSE_PW"]);
  }, 60_000);
});

describe("secrets in local mode", () => {
  const home = tempHome();
  let daemon: Daemon;
  const previous = process.env.TAU_TEST_LOCAL_SECRET;
  const envPath = join(home.home, "from-env.duckdb");
  const storedPath = join(home.home, "from-store.duckdb");

  beforeAll(async () => {
    // The executors inherit this process's environment: ctx.secret reads it in local mode.
    process.env.TAU_TEST_LOCAL_SECRET = envPath;
    daemon = await startDaemon(home.home, { secretKey: SECRET_KEY });
  }, 60_000);
  afterAll(async () => {
    await daemon?.close();
    home.remove();
    if (previous === undefined) delete process.env.TAU_TEST_LOCAL_SECRET;
    else process.env.TAU_TEST_LOCAL_SECRET = previous;
  });

  it("needs no token, refuses tenants and tokens, and lets a stored secret win over the environment", async () => {
    expect((await call<Array<{ id: string }>>(`${daemon.url}/api/tenants`, null)).body.map((t) => t.id)).toEqual(["local"]);
    const tokens = await call<{ error: { code: string } }>(`${daemon.url}/api/tokens`, null, { method: "POST", body: { role: "admin", ttl: "1h" } });
    expect(tokens.status).toBe(409);
    expect(tokens.body.error.code).toBe("TAU_E_HOSTED_ONLY");

    // duckdb_local(path) creates its file where the substituted value points: that shows which value won.
    const source = pipelineSource(
      "local_secret",
      `  await using db = duckdb_local(ctx.secret("TAU_TEST_LOCAL_SECRET"));\n  const [row] = await db.extract("SELECT 7 AS n");\n  return row;`,
    ).replace('import { pipeline } from "tau";', 'import { pipeline } from "tau";\nimport { duckdb_local } from "tau/connectors";');
    expect((await call(`${daemon.url}/api/pipelines`, null, { method: "POST", body: { source, filename: "local_secret.ts" } })).status).toBe(201);
    const fromEnv = await call<RunView>(`${daemon.url}/api/pipelines/local_secret/runs`, null, { method: "POST", body: { wait: true } });
    expect(fromEnv.body.result).toEqual({ n: 7 });
    expect(existsSync(envPath)).toBe(true);
    expect(existsSync(storedPath)).toBe(false);

    expect((await call(`${daemon.url}/api/secrets/TAU_TEST_LOCAL_SECRET`, null, { method: "PUT", body: { value: storedPath } })).status).toBe(200);
    const fromStore = await call<RunView>(`${daemon.url}/api/pipelines/local_secret/runs`, null, { method: "POST", body: { wait: true } });
    expect(fromStore.body.result).toEqual({ n: 7 });
    expect(existsSync(storedPath)).toBe(true);
    // The path was a secret: scrubbed from the run's view like any secret value.
    expect(JSON.stringify(fromStore.body)).not.toContain(storedPath);
  }, 60_000);
});
