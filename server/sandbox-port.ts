/**
 * What the control plane needs from the sandbox (sandbox/index.ts): compiling a pipeline file and an
 * executor pool that describes and runs bundles. The daemon is handed these, never builds isolates itself.
 * Structural types: `ExecutorPool` and `compilePipeline` from sandbox/ satisfy them as they are.
 */
import type { ExecutorStatus } from "./contract";
import type { Policy } from "../policies";
import type { CompileInput, CompiledPipeline, DescribeOutcome, RunJob, RunOutcome, SandboxEvent } from "../sandbox/types";

export interface ExecutorPoolPort {
  start(): Promise<void>;
  /**
   * Never rejects: every failure is a `failed` outcome with a Tau code. A pool that hands runs to other
   * processes (server/workers' RemotePool) calls `onStart` with the executor's name once one has taken the
   * run; the local pool starts runs at once and never calls it.
   */
  run(job: RunJob, onEvent: (event: SandboxEvent) => void, onStart?: (executor: string) => void): Promise<RunOutcome>;
  describe(input: { bundle: string; sourceMap: string; filename: string }, policy: Policy): Promise<DescribeOutcome>;
  /**
   * Optional: gives back the runs this pool accepted that no executor has started yet (workers: jobs still
   * waiting in the queue), calling `onWithdrawn` for each just before its `run()` resolves `cancelled`.
   * At shutdown the daemon leaves them queued for the next daemon instead of interrupting them.
   */
  withdrawUnstarted?(onWithdrawn: (runId: string) => void): Promise<void>;
  /** Stops a running run; its `run()` then resolves `cancelled`. False when the pool does not know the run. */
  cancel(runId: string): boolean;
  status(): ExecutorStatus[];
  close(): Promise<void>;
}

/** Throws a TauError TAU_E_DEPLOY_* when the file does not compile. */
export type CompilePipeline = (input: CompileInput) => Promise<CompiledPipeline>;
