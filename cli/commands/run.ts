import { setTimeout as sleep } from "node:timers/promises";
import { Command, Option } from "clipanion";
import { TERMINAL_RUN_STATUSES, type RunView } from "../../server/contract";
import { EXIT } from "../exit-codes";
import { parseNumberFlag, parseParams } from "../flags";
import { TauCommand, type Outcome } from "./base";

/** How long one POST asks the daemon to hold the answer; longer waits continue by polling the run. */
const WAIT_CHUNK_MS = 30_000;
const POLL_MIN_MS = 200;
const POLL_MAX_MS = 1_000;

export class RunCommand extends TauCommand {
  static override paths = [["run"]];
  static override usage = Command.Usage({
    description: "Run a pipeline now and wait for it to end (or return at once with --detach).",
    details: `
      Prints the run (RunView). Exit code 0 when the run succeeded, 1 when it ended any other way or was
      still running when --timeout passed (stdout still holds the run: read its status and error), so
      \`tau run x && next\` works. With --detach, prints the queued run and exits 0. A pipeline with
      \`retries\` is waited for through its retries: the run printed is the last attempt (attempt,
      retryOf; \`tau runs NAME\` lists every attempt).
    `,
    examples: [
      ["Run and wait", "$0 run orders_sync"],
      ["Run with params", `$0 run orders_sync --params '{"day": "2026-01-31"}'`],
      ["Start and return", "$0 run orders_sync --detach"],
    ],
  });

  name = Option.String({ name: "NAME" });
  params = Option.String("--params", { description: "Run params as a JSON object" });
  detach = Option.Boolean("--detach", false, { description: "Return the queued run without waiting" });
  timeout = Option.String("--timeout", { description: "Stop waiting after SEC seconds (the run goes on)" });

  protected async run(): Promise<Outcome> {
    const params = parseParams(this.params);
    const timeoutSec = parseNumberFlag("--timeout", this.timeout, { min: 0, integer: false });
    const client = this.client();

    if (this.detach) {
      return { output: await client.startRun(this.name, { params, wait: false }) };
    }

    const deadline = timeoutSec === undefined ? Number.POSITIVE_INFINITY : Date.now() + timeoutSec * 1000;
    const waitMs = Math.min(WAIT_CHUNK_MS, remaining(deadline));
    let run = await client.startRun(this.name, waitMs > 0 ? { params, wait: true, waitMs } : { params, wait: false });
    if (!isFinal(run) && remaining(deadline) > 0) {
      this.hint(`run ${run.id} is ${run.status}; waiting for it to end`);
      let pause = POLL_MIN_MS;
      while (!isFinal(run) && remaining(deadline) > 0) {
        // A failed attempt that is being retried: follow the retry (pipeline meta `retries`).
        if (isTerminal(run) && run.retriedBy) {
          this.hint(`attempt ${run.attempt} failed with ${run.error?.code ?? run.status}; following its retry ${run.retriedBy}`);
          run = await client.getRun(run.retriedBy);
          pause = POLL_MIN_MS;
          continue;
        }
        await sleep(Math.min(pause, remaining(deadline)));
        pause = Math.min(pause * 2, POLL_MAX_MS);
        run = await client.getRun(run.id);
      }
    }
    if (!isFinal(run)) {
      const next = isTerminal(run) && run.retriedBy ? run.retriedBy : run.id;
      const state = next === run.id ? `run ${run.id} is still ${run.status}` : `attempt ${run.attempt} (${run.id}) failed and its retry ${next} is pending`;
      this.hint(`stopped waiting after --timeout ${timeoutSec}s; ${state}. Follow it with: tau logs ${this.name} --run ${next} --follow`);
    }
    return { output: run, exitCode: run.status === "succeeded" ? EXIT.ok : EXIT.runNotSucceeded };
  }
}

function isTerminal(run: RunView): boolean {
  return TERMINAL_RUN_STATUSES.includes(run.status);
}

/** Ended, with no retry of it pending: the run `tau run` prints. */
function isFinal(run: RunView): boolean {
  return isTerminal(run) && !run.retriedBy;
}

function remaining(deadline: number): number {
  return Math.max(0, deadline - Date.now());
}
