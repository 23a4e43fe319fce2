/**
 * A tenant's capability policy: what a pipeline of that tenant may reach through the bridge, and the
 * limits its runs get. Plain data, validated by `validatePolicy`; evaluated on the host side only.
 */
export interface PolicyLimits {
  /** Isolate heap limit (isolated-vm's memoryLimit; soft, ×2–3 against hostile code — the executor boundary contains the rest). */
  memoryMb: number;
  /** Wall-clock deadline of a run when the pipeline sets no timeoutSec. */
  wallSec: number;
  /** Upper bound on a pipeline's own timeoutSec. */
  maxWallSec: number;
  /** CPU time the isolate may use (busy loops are stopped by disposing the isolate). */
  cpuSec: number;
  /** A log line longer than this is truncated. */
  logLineBytes: number;
  /** Log bytes a run may write; later lines are dropped with one notice. */
  logBytesPerRun: number;
  /** Size of a run's JSON result. */
  resultBytes: number;
  /** Size of one guest→host call's JSON payload, and of one host→guest answer. */
  bridgeBytes: number;
  /** Nesting depth of any JSON crossing the bridge. */
  jsonDepth: number;
  /** Rows one extract may return into the isolate. */
  extractRows: number;
  /** Runs of the tenant executing at once (more wait in the queue); the daemon-wide limits still apply. */
  concurrentRuns: number;
}

/**
 * One egress allowance: a network destination a connector may reach. `host` is an exact name, a
 * `*.suffix` wildcard or `*`; `cidr` (e.g. `10.0.0.0/8`, `::1/128`) matches the addresses the host name
 * resolved to, so a name that resolves somewhere unexpected is caught. `ports` narrows either; absent = any.
 */
export interface EgressRule {
  host?: string;
  cidr?: string;
  ports?: number[];
}

export interface Policy {
  /** Connector kinds a pipeline may open ("*" allows all). */
  connectors: string[];
  /**
   * Where network connectors (postgres, mysql, http_api, s3, …) may connect. Checked on the host after DNS
   * resolution; a destination is allowed when any rule matches it.
   */
  egress: EgressRule[];
  /** Secret names a pipeline may read ("*" allows all). */
  secrets: string[];
  /** May duckdb_local open files outside the tenant's home folder? */
  duckdbAnyPath: boolean;
  limits: PolicyLimits;
}

export const DEFAULT_LIMITS: PolicyLimits = {
  memoryMb: 256,
  wallSec: 3600,
  maxWallSec: 24 * 3600,
  cpuSec: 600,
  logLineBytes: 16 * 1024,
  logBytesPerRun: 16 * 1024 * 1024,
  resultBytes: 1024 * 1024,
  bridgeBytes: 64 * 1024 * 1024,
  jsonDepth: 64,
  extractRows: 1_000_000,
  concurrentRuns: 4096,
};

/** Local mode: the user's own machine, so everything is allowed; the limits still hold. */
export const LOCAL_POLICY: Policy = {
  connectors: ["*"],
  egress: [{ host: "*" }],
  secrets: ["*"],
  duckdbAnyPath: true,
  limits: DEFAULT_LIMITS,
};

/** Hosted mode default: deny by default. An admin widens it per tenant. */
export const HOSTED_DEFAULT_POLICY: Policy = {
  connectors: ["duckdb_local"],
  egress: [],
  secrets: [],
  duckdbAnyPath: false,
  limits: { ...DEFAULT_LIMITS, memoryMb: 128, wallSec: 900, maxWallSec: 3600, cpuSec: 300, concurrentRuns: 4 },
};
