/**
 * Validating a pipeline's meta on the host. The guest's `describe()` reports what `pipeline(meta, fn)` was
 * given; the guest's word is not trusted, so types, the name pattern and the cron expression are checked
 * here, with the field that is wrong in `details.field`.
 */
import { Cron } from "croner";
import { ERRORS, isErrorCode, type ErrorCode, type RunError } from "../server/contract";
import type { PipelineMeta } from "./types";

export const PIPELINE_NAME = /^[a-z][a-z0-9_-]{0,63}$/;
const DESCRIPTION_MAX = 4096;
const TAG_MAX = 64;
const TAGS_MAX = 64;

export type MetaValidation = { ok: true; meta: PipelineMeta } | { ok: false; error: RunError };

function invalid(code: ErrorCode, message: string, field: string): MetaValidation {
  return {
    ok: false,
    error: { code, message, hint: ERRORS[code].hint, step: null, line: null, column: null, details: { field } },
  };
}

const isStringArray = (v: unknown): v is string[] => Array.isArray(v) && v.every((x) => typeof x === "string");

const KNOWN_FIELDS = [
  "name",
  "description",
  "schedule",
  "timezone",
  "tags",
  "dependsOn",
  "timeoutSec",
  "retries",
  "retryDelaySec",
  "retryOn",
  "maxConcurrentRuns",
] as const;

/** Run control when the meta says nothing (docs/runs.md). Versions deployed before these fields existed read the same. */
export const RUN_CONTROL_DEFAULTS = { retries: 0, retryDelaySec: 10, retryOn: [] as ErrorCode[], maxConcurrentRuns: 1 } as const;
const RETRIES_MAX = 100;
const RETRY_DELAY_MAX_SEC = 86_400;
const MAX_CONCURRENT_RUNS_MAX = 1_000;

/** The known field an unknown key most likely meant (case-insensitive, at most 2 edits), or null. */
function closestField(key: string): string | null {
  let best: string | null = null;
  let bestDistance = 3;
  for (const field of KNOWN_FIELDS) {
    const d = editDistance(key.toLowerCase(), field.toLowerCase());
    if (d < bestDistance) {
      best = field;
      bestDistance = d;
    }
  }
  return best;
}

function editDistance(a: string, b: string): number {
  if (Math.abs(a.length - b.length) > 3) return 99;
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const cur = [i];
    for (let j = 1; j <= b.length; j++) cur[j] = Math.min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1));
    prev = cur;
  }
  return prev[b.length];
}

export function validateMeta(raw: unknown): MetaValidation {
  if (typeof raw !== "object" || raw === null || Array.isArray(raw)) {
    return invalid("TAU_E_DEPLOY_META_INVALID", "The first argument of pipeline() must be an object like { name: \"orders_sync\" }.", "meta");
  }
  const m = raw as Record<string, unknown>;
  // A misspelt key (`shedule`) would otherwise be ignored silently and the pipeline never scheduled.
  for (const key of Object.keys(m)) {
    if ((KNOWN_FIELDS as readonly string[]).includes(key)) continue;
    const meant = closestField(key);
    return invalid(
      "TAU_E_DEPLOY_META_INVALID",
      `meta has an unknown field ${JSON.stringify(key.slice(0, 80))}${meant ? ` (did you mean "${meant}"?)` : ""}; the fields are ${KNOWN_FIELDS.join(", ")}.`,
      key.slice(0, 80),
    );
  }

  if (typeof m.name !== "string") return invalid("TAU_E_DEPLOY_META_INVALID", "meta.name must be a string.", "name");
  if (!PIPELINE_NAME.test(m.name)) {
    return invalid("TAU_E_DEPLOY_NAME_INVALID", `Invalid pipeline name ${JSON.stringify(m.name.slice(0, 80))}: use 1–64 characters, a lowercase letter first, then lowercase letters, digits, '_' or '-'.`, "name");
  }

  const description = m.description ?? "";
  if (typeof description !== "string") return invalid("TAU_E_DEPLOY_META_INVALID", "meta.description must be a string.", "description");
  if (description.length > DESCRIPTION_MAX) return invalid("TAU_E_DEPLOY_META_INVALID", `meta.description is longer than ${DESCRIPTION_MAX} characters.`, "description");

  const schedule = m.schedule ?? null;
  if (schedule !== null && typeof schedule !== "string") return invalid("TAU_E_DEPLOY_META_INVALID", "meta.schedule must be a cron string or null.", "schedule");
  if (typeof schedule === "string") {
    const problem = cronProblem(schedule);
    if (problem) return invalid("TAU_E_DEPLOY_CRON_INVALID", `meta.schedule ${JSON.stringify(schedule.slice(0, 100))} is not a valid cron expression: ${problem}`, "schedule");
  }
  const timezone = m.timezone ?? null;
  if (timezone !== null && (typeof timezone !== "string" || !timezoneValid(timezone))) {
    return invalid("TAU_E_DEPLOY_META_INVALID", `meta.timezone must be an IANA time zone such as "Europe/Berlin" or "UTC" (got ${JSON.stringify(String(timezone).slice(0, 80))}).`, "timezone");
  }

  const tags = m.tags ?? [];
  if (!isStringArray(tags)) return invalid("TAU_E_DEPLOY_META_INVALID", "meta.tags must be an array of strings.", "tags");
  if (tags.length > TAGS_MAX || tags.some((t) => t.length === 0 || t.length > TAG_MAX)) {
    return invalid("TAU_E_DEPLOY_META_INVALID", `meta.tags takes at most ${TAGS_MAX} tags of 1–${TAG_MAX} characters.`, "tags");
  }

  const dependsOn = m.dependsOn ?? [];
  if (!isStringArray(dependsOn)) return invalid("TAU_E_DEPLOY_META_INVALID", "meta.dependsOn must be an array of pipeline names.", "dependsOn");
  const badDep = dependsOn.find((d) => !PIPELINE_NAME.test(d));
  if (badDep !== undefined) return invalid("TAU_E_DEPLOY_META_INVALID", `meta.dependsOn names ${JSON.stringify(badDep.slice(0, 80))}, which is not a valid pipeline name.`, "dependsOn");
  if (dependsOn.includes(m.name)) return invalid("TAU_E_DEPLOY_META_INVALID", "A pipeline cannot depend on itself.", "dependsOn");

  const timeoutSec = m.timeoutSec ?? null;
  if (timeoutSec !== null && (typeof timeoutSec !== "number" || !Number.isFinite(timeoutSec) || timeoutSec <= 0)) {
    return invalid("TAU_E_DEPLOY_META_INVALID", "meta.timeoutSec must be a positive number of seconds, or null.", "timeoutSec");
  }

  const retries = m.retries ?? RUN_CONTROL_DEFAULTS.retries;
  if (typeof retries !== "number" || !Number.isInteger(retries) || retries < 0 || retries > RETRIES_MAX) {
    return invalid("TAU_E_DEPLOY_META_INVALID", `meta.retries must be an integer from 0 to ${RETRIES_MAX} (retries after the first attempt).`, "retries");
  }
  const retryDelaySec = m.retryDelaySec ?? RUN_CONTROL_DEFAULTS.retryDelaySec;
  if (typeof retryDelaySec !== "number" || !Number.isFinite(retryDelaySec) || retryDelaySec < 0 || retryDelaySec > RETRY_DELAY_MAX_SEC) {
    return invalid("TAU_E_DEPLOY_META_INVALID", `meta.retryDelaySec must be a number of seconds from 0 to ${RETRY_DELAY_MAX_SEC}.`, "retryDelaySec");
  }
  const retryOn = m.retryOn ?? [];
  if (!isStringArray(retryOn)) return invalid("TAU_E_DEPLOY_META_INVALID", "meta.retryOn must be an array of Tau error codes, e.g. [\"TAU_E_PIPELINE_ERROR\"].", "retryOn");
  const unknownCode = retryOn.find((code) => !isErrorCode(code));
  if (unknownCode !== undefined) {
    return invalid("TAU_E_DEPLOY_META_INVALID", `meta.retryOn names ${JSON.stringify(unknownCode.slice(0, 80))}, which is not a Tau error code (see docs/errors.md).`, "retryOn");
  }
  if (retryOn.includes("TAU_E_RUN_CANCELLED")) {
    return invalid("TAU_E_DEPLOY_META_INVALID", "meta.retryOn cannot name TAU_E_RUN_CANCELLED: a cancelled run is never retried.", "retryOn");
  }
  const maxConcurrentRuns = m.maxConcurrentRuns ?? RUN_CONTROL_DEFAULTS.maxConcurrentRuns;
  if (typeof maxConcurrentRuns !== "number" || !Number.isInteger(maxConcurrentRuns) || maxConcurrentRuns < 1 || maxConcurrentRuns > MAX_CONCURRENT_RUNS_MAX) {
    return invalid("TAU_E_DEPLOY_META_INVALID", `meta.maxConcurrentRuns must be an integer from 1 to ${MAX_CONCURRENT_RUNS_MAX}.`, "maxConcurrentRuns");
  }

  return {
    ok: true,
    meta: {
      name: m.name,
      description,
      schedule,
      // Only when given: the meta of a pipeline without one stays as it was before the field existed.
      ...(timezone !== null ? { timezone } : {}),
      tags: [...tags],
      dependsOn: [...new Set(dependsOn)],
      timeoutSec,
      retries,
      retryDelaySec,
      retryOn: [...new Set(retryOn)] as ErrorCode[],
      maxConcurrentRuns,
    },
  };
}

/** A stored version's meta with the run-control defaults filled in (versions deployed before they existed lack them). */
export function withRunControlDefaults(meta: PipelineMeta): PipelineMeta {
  return {
    ...meta,
    retries: meta.retries ?? RUN_CONTROL_DEFAULTS.retries,
    retryDelaySec: meta.retryDelaySec ?? RUN_CONTROL_DEFAULTS.retryDelaySec,
    retryOn: meta.retryOn ?? [],
    maxConcurrentRuns: meta.maxConcurrentRuns ?? RUN_CONTROL_DEFAULTS.maxConcurrentRuns,
  };
}

/** Whether the runtime knows the IANA time zone (the scheduler uses the same check). */
export function timezoneValid(timezone: string): boolean {
  if (timezone.length === 0 || timezone.length > 64) return false;
  try {
    new Intl.DateTimeFormat("en-US", { timeZone: timezone });
    return true;
  } catch {
    return false;
  }
}

/** Why a cron expression is invalid, or null when croner accepts it. */
export function cronProblem(expression: string): string | null {
  if (expression.trim() === "") return "it is empty";
  try {
    const job = new Cron(expression, { paused: true });
    job.stop();
    return null;
  } catch (err) {
    return (err as Error).message.replace(/^CronPattern: /, "");
  }
}
