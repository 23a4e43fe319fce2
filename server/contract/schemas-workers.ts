/**
 * JSON Schemas of the workers' views (GET /api/workers, `tau workers`; docs/workers.md). Mirrors
 * WorkerView and WorkersView in api.ts.
 */
import { Count, Name, Time, TimeOrNull, nullable, object } from "./schemas-base";

export const WorkerView = object(
  {
    id: { ...Name, description: "host:pid:random — a worker that was declared lost and came back registers under a new id." },
    host: nullable("string", { description: "null unless the caller is a platform admin (hosted mode)." }),
    pid: nullable("integer", { description: "null unless the caller is a platform admin (hosted mode)." }),
    capacity: { ...Count, description: "Runs the worker executes at once." },
    executors: Count,
    running: { ...Count, description: "Runs on the worker now: every tenant's for a platform admin, else the caller's tenant's only." },
    leaseSec: { ...Count, description: "Without a heartbeat for this long the worker is declared lost and its runs fail as TAU_E_WORKER_LOST." },
    state: { type: "string", enum: ["active", "draining", "lost", "stopped"] },
    startedAt: Time,
    heartbeatAt: Time,
    endedAt: TimeOrNull,
  },
  { description: "A `taud worker` process as the registry holds it." },
);

export const WorkersView = object({
  runsOn: { type: "string", enum: ["local", "workers"], description: "local: runs execute in the daemon's own executor pool and there are no workers." },
  workers: { type: "array", items: WorkerView, description: "Live workers, and those that ended within the last hour; oldest first." },
});
