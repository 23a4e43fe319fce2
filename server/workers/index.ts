/**
 * Distributed workers (docs/workers.md): the API's RemotePool hands runs to `taud worker` processes through
 * a pg-boss queue in PostgreSQL; workers stream events and outcomes back through `tau_workers.signals`.
 */
export { RemotePool, type RemotePoolOptions } from "./remote-pool";
export { Worker, type WorkerOptions } from "./worker";
export type { WorkerRow, WorkerState } from "./registry";
export { SCHEMA as WORKERS_SCHEMA, RUN_QUEUE } from "./schema";
