/**
 * Hosted mode end to end with the real binaries: `taud --mode hosted` with keys from the environment, the
 * bootstrap token from `taud token`, then only `tau`: tenants, tokens, secrets (from stdin), policies, and
 * runs that a tenant policy denies (TAU_E_POLICY_DENIED naming the rule) or allows — a postgres connector
 * whose DSN is a stored secret, against the local PostgreSQL.
 */
import { spawn, spawnSync } from "node:child_process";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { schemas } from "../cli/helpers/tau-cli";
import { builtOrThrow, cleanup, pipelineFile, ROOT, startDaemon, tau, tempHome, type Daemon } from "./harness";

const JWT_SECRET = "e2e-hosted-jwt-secret-0123456789abcdefghij";
const SECRET_KEY = "0123456789abcdef".repeat(4);
const DSN = "postgres://postgres@127.0.0.1:5432/test";
const KEYS = { TAU_MODE: "hosted", TAU_JWT_SECRET: JWT_SECRET, TAU_SECRET_KEY: SECRET_KEY };

let daemon: Daemon;
let dir: string;
let platform: string;
/** Tokens of tenant acme, issued by the second test. */
let acmeOperator: string;
let acmeAdmin: string;

const PG_PIPELINE = `import { pipeline } from "tau";
import { postgres } from "tau/connectors";

export default pipeline({ name: "pg_probe" }, async (ctx) => {
  await using db = postgres({ dsn: ctx.secret("PG_DSN") });
  const [row] = await db.extract("SELECT current_user AS who, 41 + 1 AS answer");
  return row;
});
`;

function policy(overrides: Record<string, unknown>): string {
  const file = join(dir, `policy-${Math.random().toString(36).slice(2)}.json`);
  const base = {
    connectors: ["duckdb_local", "postgres"],
    egress: [{ cidr: "127.0.0.1/32", ports: [5432] }],
    secrets: ["PG_DSN"],
    duckdbAnyPath: false,
    limits: { memoryMb: 128, wallSec: 120, maxWallSec: 600, cpuSec: 60, logLineBytes: 16384, logBytesPerRun: 1048576, resultBytes: 1048576, bridgeBytes: 67108864, jsonDepth: 64, extractRows: 100000, concurrentRuns: 2 },
  };
  writeFileSync(file, JSON.stringify({ ...base, ...overrides }));
  return file;
}

/** `tau` with stdin (the harness's tau() ignores stdin). */
function tauWithStdin(args: string[], input: string, env: NodeJS.ProcessEnv): Promise<{ code: number; json: any; stdout: string }> {
  const proc = spawn(process.execPath, [join(ROOT, "dist/cli/bin.js"), ...args], { env: { ...process.env, TAU_HOST: daemon.url, ...env }, stdio: ["pipe", "pipe", "pipe"] });
  let stdout = "";
  proc.stdout.on("data", (d) => (stdout += d));
  proc.stdin.end(input);
  return new Promise((resolve) => proc.on("close", (code) => resolve({ code: code ?? -1, json: JSON.parse(stdout), stdout })));
}

beforeAll(async () => {
  builtOrThrow();
  dir = tempHome("tau-e2e-hosted-");
  daemon = await startDaemon({ env: { ...KEYS, TAU_LOG_LEVEL: "info" } });
  const minted = spawnSync(process.execPath, [join(ROOT, "dist/server/bin.js"), "token", "--tenant", "admin", "--role", "admin", "--ttl", "1h"], {
    env: { ...process.env, ...KEYS },
    encoding: "utf8",
  });
  expect(minted.status).toBe(0);
  platform = JSON.parse(minted.stdout).token;
}, 60_000);

afterAll(async () => {
  await daemon?.stop();
  // Nothing secret in what taud printed: not the JWT secret, the secret key or a stored secret's value.
  for (const secret of [JWT_SECRET, SECRET_KEY, DSN]) expect(daemon.stderr()).not.toContain(secret);
  cleanup(daemon.home);
  cleanup(dir);
});

describe("hosted mode with the real binaries", () => {
  it("refuses to start without its keys, naming the missing option", () => {
    const r = spawnSync(process.execPath, [join(ROOT, "dist/server/bin.js"), "--home", dir, "--port", "0", "--mode", "hosted"], {
      env: { ...process.env, TAU_JWT_SECRET: "", TAU_SECRET_KEY: "" },
      encoding: "utf8",
    });
    expect(r.status).toBe(2);
    expect(JSON.parse(r.stdout).error).toMatchObject({ code: "TAU_E_DAEMON_OPTIONS_INVALID", details: { option: "TAU_JWT_SECRET" } });
    const noKey = spawnSync(process.execPath, [join(ROOT, "dist/server/bin.js"), "--home", dir, "--port", "0", "--mode", "hosted"], {
      env: { ...process.env, TAU_JWT_SECRET: JWT_SECRET, TAU_SECRET_KEY: "" },
      encoding: "utf8",
    });
    expect(JSON.parse(noKey.stdout).error.details.option).toBe("TAU_SECRET_KEY");
    const badRole = spawnSync(process.execPath, [join(ROOT, "dist/server/bin.js"), "token", "--tenant", "admin", "--role", "root"], {
      env: { ...process.env, ...KEYS },
      encoding: "utf8",
    });
    expect(badRole.status).toBe(2);
    expect(JSON.parse(badRole.stdout).error.code).toBe("TAU_E_DAEMON_OPTIONS_INVALID");
  });

  it("answers malformed hosted commands with TAU_E_CLI_USAGE, exit 2, before asking the daemon", async () => {
    const cases: string[][] = [
      ["secrets", "set", "X"],
      ["secrets", "set", "X", "--value", "v", "--stdin"],
      ["secrets", "delete"],
      ["secrets", "rotate"],
      ["policy", "set"],
      ["tenants", "create"],
      ["tokens", "issue"],
      ["tokens", "revoke", "--role", "viewer"],
    ];
    for (const args of cases) {
      const r = await tau(null, args);
      expect(r.code, args.join(" ")).toBe(2);
      expect(r.json.error.code, args.join(" ")).toBe("TAU_E_CLI_USAGE");
    }
    const missing = await tau(null, ["policy", "set", join(dir, "no-such-policy.json")]);
    expect(missing.json.error.code).toBe("TAU_E_FILE_NOT_FOUND");
  }, 60_000);

  it("bootstraps with `taud token`, then creates a tenant and issues its tokens with tau", async () => {
    const anonymous = await tau(daemon, ["status"]);
    expect(anonymous.json.error.code).toBe("TAU_E_AUTH_REQUIRED");
    expect(anonymous.code).not.toBe(0);

    const created = await tau(daemon, ["tenants", "create", "acme", "--name", "Acme"], { TAU_TOKEN: platform });
    expect(created.code).toBe(0);
    expect(created.json).toMatchObject({ id: "acme", name: "Acme" });
    const again = await tau(daemon, ["tenants", "create", "acme"], { TAU_TOKEN: platform });
    expect(again.json.error.code).toBe("TAU_E_TENANT_EXISTS");
    const list = await tau(daemon, ["tenants"], { TAU_TOKEN: platform });
    expect(list.json.tenants.map((t: { id: string }) => t.id)).toEqual(["acme", "admin"]);
    expect(schemas.validate("tenants.schema.json", list.json)).toEqual([]);
    expect(schemas.validate("tenants.schema.json", created.json)).toEqual([]);

    const issued = await tau(daemon, ["tokens", "issue", "--tenant", "acme", "--role", "admin", "--ttl", "30m"], { TAU_TOKEN: platform });
    expect(issued.code).toBe(0);
    expect(issued.json).toMatchObject({ tenant: "acme", role: "admin", token: expect.any(String) });
    expect(schemas.validate("tokens.schema.json", issued.json)).toEqual([]);
    acmeAdmin = issued.json.token as string;
    // A tenant admin issues its own tenant's tokens, not another's, and creates no tenants.
    const own = await tau(daemon, ["tokens", "issue", "--role", "operator"], { TAU_TOKEN: acmeAdmin });
    expect(own.json).toMatchObject({ tenant: "acme", role: "operator" });
    const foreign = await tau(daemon, ["tokens", "issue", "--tenant", "admin", "--role", "admin"], { TAU_TOKEN: acmeAdmin });
    expect(foreign.json.error.code).toBe("TAU_E_FORBIDDEN");
    const tenant = await tau(daemon, ["tenants", "create", "evil"], { TAU_TOKEN: acmeAdmin });
    expect(tenant.json.error.code).toBe("TAU_E_FORBIDDEN");
    const mine = await tau(daemon, ["tenants"], { TAU_TOKEN: acmeAdmin });
    expect(mine.json.tenants.map((t: { id: string }) => t.id)).toEqual(["acme"]);
    acmeOperator = own.json.token;
  }, 60_000);

  it("stores secrets from stdin, lists names only, and runs use them only as the tenant policy allows", async () => {
    const operator = { TAU_TOKEN: acmeOperator };
    const set = await tauWithStdin(["secrets", "set", "PG_DSN", "--stdin"], `${DSN}\n`, operator);
    expect(set.json).toEqual({ name: "PG_DSN", created: true });
    const listed = await tau(daemon, ["secrets"], operator);
    expect(listed.json.secrets.map((s: { name: string }) => s.name)).toEqual(["PG_DSN"]);
    expect(listed.stdout).not.toContain(DSN);
    expect(schemas.validate("secrets.schema.json", listed.json)).toEqual([]);
    expect(schemas.validate("secrets.schema.json", set.json)).toEqual([]);

    const file = pipelineFile(dir, "pg_probe", PG_PIPELINE);
    expect((await tau(daemon, ["deploy", file], operator)).code).toBe(0);

    // Hosted default policy: only duckdb_local.
    const shown = await tau(daemon, ["policy"], operator);
    expect(shown.json).toMatchObject({ tenant: "acme", source: "default", policy: { connectors: ["duckdb_local"], egress: [] } });
    expect(schemas.validate("policy.schema.json", shown.json)).toEqual([]);
    // ctx.secret is checked first (rule secrets); a DSN written inline meets the connectors rule.
    const secretDenied = await tau(daemon, ["run", "pg_probe"], operator);
    expect(secretDenied.json.error).toMatchObject({ code: "TAU_E_POLICY_DENIED", details: { rule: "secrets" } });
    const plain = pipelineFile(dir, "pg_plain", PG_PIPELINE.replace("pg_probe", "pg_plain").replace('ctx.secret("PG_DSN")', JSON.stringify(DSN)));
    expect((await tau(daemon, ["deploy", plain], operator)).code).toBe(0);
    const denied = await tau(daemon, ["run", "pg_plain"], operator);
    expect(denied.json.status).toBe("failed");
    expect(denied.json.error).toMatchObject({ code: "TAU_E_POLICY_DENIED", details: { rule: "connectors" } });

    // The tenant's own admin cannot widen its policy; the platform admin can.
    const self = await tau(daemon, ["policy", "set", policy({})], { TAU_TOKEN: acmeAdmin });
    expect(self.json.error.code).toBe("TAU_E_FORBIDDEN");
    const bad = await tau(daemon, ["policy", "set", policy({ egress: [{ cidr: "10.0.0.0/99" }] }), "--tenant", "acme"], { TAU_TOKEN: platform });
    expect(bad.json.error.code).toBe("TAU_E_POLICY_INVALID");

    // Postgres allowed but no egress to it: refused on the host, naming the egress rule.
    expect((await tau(daemon, ["policy", "set", policy({ egress: [] }), "--tenant", "acme"], { TAU_TOKEN: platform })).code).toBe(0);
    const noEgress = await tau(daemon, ["run", "pg_probe"], operator);
    expect(noEgress.json.error).toMatchObject({ code: "TAU_E_POLICY_DENIED", details: { rule: "egress" } });

    // The secret not allowed by the policy.
    expect((await tau(daemon, ["policy", "set", policy({ secrets: [] }), "--tenant", "acme"], { TAU_TOKEN: platform })).code).toBe(0);
    const noSecret = await tau(daemon, ["run", "pg_probe"], operator);
    expect(noSecret.json.error).toMatchObject({ code: "TAU_E_POLICY_DENIED", details: { rule: "secrets" } });

    // Everything allowed: the stored DSN reaches the connector, and appears nowhere in the run.
    const allowed = await tau(daemon, ["policy", "set", policy({}), "--tenant", "acme"], { TAU_TOKEN: platform });
    expect(allowed.json).toMatchObject({ tenant: "acme", source: "stored" });
    const ok = await tau(daemon, ["run", "pg_probe"], operator);
    expect(ok.json.status).toBe("succeeded");
    expect(ok.json.result).toEqual({ who: "postgres", answer: 42 });
    expect(ok.stdout).not.toContain(DSN);

    // `tau logs --follow` subscribes over the WebSocket with TAU_TOKEN; another tenant's token is refused.
    const followed = spawnSync(process.execPath, [join(ROOT, "dist/cli/bin.js"), "logs", "pg_probe", "--run", ok.json.id, "--follow"], {
      env: { ...process.env, TAU_HOST: daemon.url, ...operator },
      encoding: "utf8",
    });
    expect(followed.status).toBe(0);
    const kinds = followed.stdout.trim().split("\n").map((line) => JSON.parse(line).kind as string);
    expect(kinds[0]).toBe("run.queued");
    expect(kinds.at(-1)).toBe("run.finished");
    const foreign = await tau(daemon, ["logs", "pg_probe", "--run", ok.json.id, "--follow"], { TAU_TOKEN: platform });
    expect(foreign.json.error.code).toMatch(/^TAU_E_(PIPELINE|RUN)_NOT_FOUND$/);

    // Deleted: the run no longer finds it.
    expect((await tau(daemon, ["secrets", "delete", "PG_DSN"], operator)).json).toEqual({ name: "PG_DSN", deleted: true });
    const gone = await tau(daemon, ["run", "pg_probe"], operator);
    expect(gone.json.error.code).toBe("TAU_E_SECRET_NOT_FOUND");
    const missing = await tau(daemon, ["secrets", "delete", "PG_DSN"], operator);
    expect(missing.json.error.code).toBe("TAU_E_SECRET_NOT_STORED");
  }, 120_000);
});
