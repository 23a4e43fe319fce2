/**
 * A run's sandbox events → ledger writes. Steps are stored by position (the order they started in), since
 * names may repeat or nest; a `step.finished` is matched to the newest open step of that name.
 */
import type { SandboxEvent } from "../../sandbox/types";
import type { RunRef, Store } from "../store";

export class StepRecorder {
  private nextPosition = 0;
  /** Positions of started, unfinished steps by name (a stack per name). */
  private readonly openSteps = new Map<string, number[]>();

  constructor(
    private readonly ref: RunRef,
    private readonly ledger: Store["ledger"],
    /** Intermediate writes are not awaited (the ledger keeps their order); `submit` logs a failure. */
    private readonly submit: (write: Promise<unknown>) => void,
  ) {}

  record(event: SandboxEvent): void {
    const { ref, ledger } = this;
    switch (event.kind) {
      case "step.started": {
        const position = this.nextPosition++;
        const stack = this.openSteps.get(event.step) ?? [];
        stack.push(position);
        this.openSteps.set(event.step, stack);
        this.submit(ledger.stepStarted(ref, position, event));
        return;
      }
      case "step.finished": {
        let position = this.openSteps.get(event.step)?.pop();
        if (position === undefined) {
          // A finish without a start: record the step anyway, started `durationMs` earlier.
          position = this.nextPosition++;
          const startedAt = new Date(Date.parse(event.ts) - event.durationMs).toISOString();
          this.submit(ledger.stepStarted(ref, position, { kind: "step.started", ts: startedAt, step: event.step }));
        }
        this.submit(ledger.stepFinished(ref, position, event));
        return;
      }
      case "log":
        this.submit(ledger.log(ref, event));
        return;
    }
  }
}
