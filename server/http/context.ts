/**
 * What the HTTP layer is handed: the services it calls and facts about the daemon. Routes never reach
 * the ORM or the executor processes except through these.
 */
import type { EventBus } from "../event-bus";
import type { Logger } from "../log";
import type { ExecutorPoolPort } from "../sandbox-port";
import type { DagService } from "../dag";
import type { ScheduleService } from "../scheduler";
import type { DeployService } from "../services/deploy";
import type { PolicyService } from "../services/policies";
import type { RunService } from "../services/runs";
import type { SecretService } from "../services/secrets";
import type { TenantService } from "../services/tenants";
import type { Store } from "../store";
import type { RemotePool } from "../workers";

export interface ApiContext {
  store: Store;
  deploy: DeployService;
  runs: RunService;
  schedules: ScheduleService;
  dag: DagService;
  /** Hosted mode's tenants and tokens, each tenant's policy and secrets. */
  tenants: TenantService;
  policies: PolicyService;
  secrets: SecretService;
  bus: EventBus;
  pool: Pick<ExecutorPoolPort, "status">;
  /** The worker queue when runs execute on `taud worker` processes (--runs-on workers); absent otherwise. */
  workers?: Pick<RemotePool, "workers"> | null;
  log: Logger;
  daemon: {
    version: string;
    mode: "local" | "hosted";
    home: string;
    pid: number;
    startedAt: number;
  };
  /** Bytes a WebSocket client may fall behind before it is disconnected. */
  wsMaxBufferedBytes: number;
  /** How often WebSocket clients are pinged; one that missed a pong by the next ping is dropped (default 30 s). */
  wsHeartbeatMs?: number;
  /** True once shutdown began: deploys and new runs are refused. */
  isClosing(): boolean;
}

declare module "fastify" {
  /** OpenAPI fields carried on route schemas (openapi.ts reads them; fastify ignores them). */
  interface FastifySchema {
    operationId?: string;
    summary?: string;
    description?: string;
    tags?: string[];
    /** Extension for the WebSocket route: its client and server message schemas. */
    "x-websocket"?: { client: unknown; server: unknown };
  }
  interface FastifyRequest {
    /** The tenant the request acts for ("local" in local mode; from the JWT in hosted mode). */
    tenantId: string;
  }
}
