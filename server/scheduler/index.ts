/**
 * Schedules: the heap-and-one-timer Scheduler with an injected Clock (scheduler.ts, clock.ts), schedule
 * specs and their next fires through croner (spec.ts), and the daemon's wiring (service.ts).
 * docs/scheduling.md.
 */
export { Scheduler, type ScheduleEntry, type FireOutcome, type FireTarget, type LastFire, type SchedulerStore, type ScheduleUpdate, type SchedulerOptions, type SchedulerStats } from "./scheduler";
export { systemClock, ManualClock, type Clock, type CancelTimer } from "./clock";
export { nextFire, NextFireMemo, firesBetween, specProblem, describeSpec, DEFAULT_TIMEZONE, MAX_EVERY_SEC, type ScheduleSpec } from "./spec";
export { ScheduleService, scheduleView, MAX_CATCH_UP, type ScheduleServiceOptions, type ScheduleRunsPort } from "./service";
export { TimeHeap } from "./heap";
