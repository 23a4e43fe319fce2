/**
 * Assembles and starts taud (local or hosted mode, docs/hosted.md): home folder and lock, store, executor pool, run and deploy
 * services, HTTP API. `close()` shuts down gracefully (see `Daemon.close`).
 */
import { mkdirSync } from "node:fs";
import { setTimeout as sleep } from "node:timers/promises";
import { join } from "node:path";
import type { FastifyInstance } from "fastify";
import { TauError } from "./contract";
import { compilePipeline, ExecutorPool, warmUpCompiler } from "../sandbox";
import { compileTokenConfig, type TokenConfig } from "./auth";
import { EventBus } from "./event-bus";
import { HomeLock } from "./home-lock";
import { DagService } from "./dag";
import { createApp, registerApi } from "./http/app";
import { IdGenerator } from "./ids";
import { compileDaemonOptions, type CompiledDaemonOptions, type DaemonOptions } from "./options";
import type { CompilePipeline, ExecutorPoolPort } from "./sandbox-port";
import { ScheduleService, systemClock, type Clock } from "./scheduler";
import { DeployService } from "./services/deploy";
import { PolicyService } from "./services/policies";
import { RunService } from "./services/runs";
import { SecretService } from "./services/secrets";
import { TenantService } from "./services/tenants";
import { SecretCipher } from "./secrets";
import { DatabaseLock, Store } from "./store";
import { RemotePool } from "./workers";
import { version as TAU_VERSION } from "../package.json";

export const LOCAL_TENANT = "local";
/** Log lines a RunView carries (the newest); GET /api/runs/:id/events has all of them. */
const RUN_VIEW_LOG_LINES = 1_000;

export interface DaemonDependencies {
  /** The executor pool (default: a new ExecutorPool of `options.executors` processes). The daemon starts and closes it. */
  pool?: ExecutorPoolPort;
  /** The compiler (default: sandbox's compilePipeline with `options.maxSourceBytes`). */
  compile?: CompilePipeline;
  /** The scheduler's clock (default: the system clock); tests inject a manual one. */
  clock?: Clock;
  /** Source of the retry backoff's jitter, in [0, 1) (default Math.random); tests pin it. */
  random?: () => number;
}

export interface Daemon {
  app: FastifyInstance;
  /** `http://HOST:PORT` with the port actually bound. */
  url: string;
  options: CompiledDaemonOptions;
  /**
   * Graceful shutdown, idempotent: refuse new deploys and runs (TAU_E_DAEMON_SHUTTING_DOWN), leave queued runs
   * queued for the next daemon (a graph run's are failed as interrupted), give running runs `shutdownGraceMs` to finish then cancel them (TAU_E_RUN_INTERRUPTED),
   * close the HTTP server and WebSockets, the executor pool, and the database.
   */
  close(): Promise<void>;
  /**
   * Settles when the daemon stopped on its own (not through close()): with a PostgreSQL store, when its
   * database lock was lost and another API daemon took the database meanwhile. bin.ts exits then.
   */
  readonly stoppedItself: Promise<void>;
}

/**
 * Starts a daemon. Options are validated and defaulted here without reading the environment (bin.ts does
 * that through compileDaemonOptions).
 *
 * @example
 * const daemon = await createDaemon({ home: "/tmp/tau-test", port: 0 });
 * const res = await fetch(`${daemon.url}/api/status`);
 * await daemon.close();
 */
export async function createDaemon(options: DaemonOptions = {}, deps: DaemonDependencies = {}): Promise<Daemon> {
  const o = compileDaemonOptions([], {}, options);
  const startedAt = Date.now();
  const dataDir = join(o.home, "data", LOCAL_TENANT);
  try {
    mkdirSync(dataDir, { recursive: true });
  } catch (err) {
    throw new TauError("TAU_E_STORE_FAILED", `Cannot create ${dataDir}: ${(err as Error).message}`, { home: o.home });
  }
  // Hosted mode: options.ts checked the keys; compiled here again so the daemon holds only what it uses.
  const tokens = tokenConfigOf(o);
  const cipher = o.secretKey ? SecretCipher.fromKey(o.secretKey) : null;
  const lock = HomeLock.acquire(o.home);
  const appOptions = { logLevel: o.logLevel, bodyLimit: 6 * o.maxSourceBytes + 64 * 1024 };
  const app = createApp(appOptions);
  const log = app.log;
  const bus = new EventBus((err) => log.error({ err }, "event listener failed"));
  const cleanups: Array<() => Promise<void> | void> = [() => lock.release()];
  let closing = false;
  let closed: Promise<void> | undefined;
  /** The graceful close, once the daemon is assembled. */
  let shutdown: (() => Promise<void>) | null = null;
  let markStopped!: () => void;
  const stoppedItself = new Promise<void>((resolve) => (markStopped = resolve));
  const stopItself = async (): Promise<void> => {
    if (closing) return;
    markStopped();
    await shutdown?.();
  };
  const cleanup = async (): Promise<void> => {
    for (const fn of cleanups.reverse()) await Promise.resolve(fn()).catch((err: unknown) => log.error({ err }, "cleanup failed"));
  };

  try {
    const store = await Store.open({ home: o.home, databaseUrl: o.databaseUrl, onEvents: (events) => bus.publish(events) });
    cleanups.push(() => store.close());
    if (o.databaseUrl) {
      const url = o.databaseUrl;
      // One API daemon per database (store/database-lock.ts). Should the lock's connection break, it is taken
      // again once the server answers; if another daemon took it meanwhile, this one stops.
      const hold = async (): Promise<void> => {
        const lock = await DatabaseLock.acquire({ url, onLost: (err) => void regain(err) });
        cleanups.push(() => lock.release());
      };
      const regain = async (err: Error): Promise<void> => {
        log.error({ err }, "lost the database lock's connection; taking the lock again");
        for (let attempt = 1; !closing; attempt++) {
          await sleep(Math.min(500 * attempt, 5_000));
          try {
            return await hold();
          } catch (e) {
            if (e instanceof TauError && e.code === "TAU_E_DATABASE_LOCKED") {
              log.fatal({ err: e }, "another API daemon took the database while its lock was lost; stopping");
              return stopItself();
            }
            log.error({ err: e, attempt }, "could not take the database lock again yet");
          }
        }
      };
      await hold();
    }
    if (o.mode === "local") await store.pipelines.ensureTenant(LOCAL_TENANT, "Local");
    const tenants = new TenantService({ store, mode: o.mode, adminTenant: o.adminTenant, tokens });
    await tenants.start();
    const policies = new PolicyService({ store, mode: o.mode });
    await policies.start();
    const secrets = new SecretService({ store, mode: o.mode, cipher, log });

    // With --runs-on workers the daemon's own pool only describes bundles at deploy: one executor does.
    const poolSize = o.runsOn === "workers" ? 1 : o.executors;
    const pool =
      deps.pool ??
      new ExecutorPool({ size: poolSize, env: withoutDaemonKeys(process.env), onStderr: (executor, line) => log.warn({ executor, line }, "executor stderr") });
    cleanups.push(() => pool.close());
    await pool.start();
    // Runs on `taud worker` processes (docs/workers.md). Started before recoverInterrupted: it drops the jobs
    // a previous daemon left in the queue, whose runs RunService then re-queues itself.
    const remote = o.runsOn === "workers" ? new RemotePool({ databaseUrl: o.databaseUrl!, cipher, log }) : null;
    if (remote) {
      cleanups.push(() => remote.close());
      await remote.start();
    }

    // One generator for run ids daemon-wide (graph runs record runs too): ids stay monotonic.
    const ids = new IdGenerator();
    const runs = new RunService({
      store,
      pool: remote ?? pool,
      startOn: remote ? "claim" : "dispatch",
      log,
      ids,
      policy: (tenantId) => policies.policyFor(tenantId),
      secrets: (tenantId, policy) => secrets.forRun(tenantId, policy),
      home: o.home,
      concurrency: o.concurrency,
      tenantConcurrency: o.tenantConcurrency,
      ...(deps.random ? { random: deps.random } : {}),
      maxQueued: o.maxQueued,
      executorName: `taud:${process.pid}`,
      runViewLogLines: RUN_VIEW_LOG_LINES,
    });

    const compileOptions = { maxSourceBytes: o.maxSourceBytes };
    const compile = deps.compile ?? ((input) => compilePipeline(input, compileOptions));
    // The first deploy would otherwise pay ~2 s loading TypeScript; never throws.
    if (!deps.compile) void warmUpCompiler(compileOptions);
    const schedules = new ScheduleService({ store, runs, clock: deps.clock ?? systemClock, log });
    const dag = new DagService({ store, runs, log, ids });
    const interruptedGraphRuns = await dag.recoverInterrupted();
    if (interruptedGraphRuns > 0) log.warn({ graphRuns: interruptedGraphRuns }, "failed graph runs left unfinished by a previous daemon");
    cleanups.push(bus.subscribe((event) => dag.onEvent(event)));
    // After the graph runs were failed (their runs are failed, not requeued) and after dag.onEvent listens,
    // so a recovered scheduled run that succeeds still triggers its dependents.
    const recovered = await runs.recoverInterrupted(remote?.claimedBeforeStart);
    if (recovered.requeued + recovered.rearmed + recovered.retried + recovered.failed > 0) {
      log.warn(recovered, "took over the runs a previous daemon left unfinished: requeued queued runs, re-armed pending retries, failed running ones as TAU_E_RUN_INTERRUPTED (retried when attempts were left)");
    }
    const deploy = new DeployService({
      store,
      pool,
      compile,
      policy: policies.defaultPolicy,
      hooks: { guard: (tenantId, meta, existing, write) => dag.guardDeploy(tenantId, meta, existing, write), changed: (tenantId, name) => schedules.refresh(tenantId, name) },
    });

    await registerApi(
      app,
      {
        store,
        deploy,
        runs,
        schedules,
        dag,
        tenants,
        policies,
        secrets,
        bus,
        pool,
        workers: remote,
        log,
        daemon: { version: TAU_VERSION, mode: o.mode, home: o.home, pid: process.pid, startedAt },
        wsMaxBufferedBytes: o.wsMaxBufferedBytes,
        isClosing: () => closing,
      },
      { ...appOptions, auth: { mode: o.mode, tokens, tenantExists: (id) => tenants.exists(id) } },
    );
    cleanups.push(() => app.close());
    // Catch-up runs for fires missed while the daemon was down are queued here, before the port opens.
    await schedules.start();
    cleanups.push(() => schedules.stop());
    await app.listen({ port: o.port, host: o.bind });

    shutdown = () =>
      (closed ??= (async () => {
        closing = true;
        dag.beginShutdown();
        await schedules.stop();
        await runs.shutdown(o.shutdownGraceMs);
        await dag.stop();
        await cleanup();
      })());
    return { app, url: urlOf(app, o.bind), options: o, stoppedItself, close: shutdown };
  } catch (err) {
    await cleanup();
    throw err;
  }
}

function urlOf(app: FastifyInstance, bind: string): string {
  const address = app.server.address();
  const port = typeof address === "object" && address ? address.port : 0;
  const host = bind === "0.0.0.0" ? "127.0.0.1" : bind === "::" ? "[::1]" : bind.includes(":") ? `[${bind}]` : bind;
  return `http://${host}:${port}`;
}

/** Hosted mode's token configuration (null in local mode). */
export function tokenConfigOf(o: CompiledDaemonOptions): TokenConfig | null {
  if (o.mode !== "hosted") return null;
  return compileTokenConfig({
    algorithm: o.jwtAlg,
    secret: o.jwtSecret ?? undefined,
    publicKey: o.jwtPublicKey ?? undefined,
    privateKey: o.jwtPrivateKey ?? undefined,
  });
}

/** The executors' environment: the daemon's, without its keys (ctx.secret reads the environment locally). */
export function withoutDaemonKeys(env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  const copy = { ...env };
  for (const key of ["TAU_JWT_SECRET", "TAU_JWT_PRIVATE_KEY", "TAU_SECRET_KEY", "TAU_TOKEN", "TAU_DATABASE_URL"]) delete copy[key];
  return copy;
}
