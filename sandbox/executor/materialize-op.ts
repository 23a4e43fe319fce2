/**
 * The `materialize` bridge operation (host side of `ctx.materialize`): `{handle, spec, dialect, runId}` from
 * the guest, hostile like every payload. It validates the spec again with the SDK's own `validateSpec`, looks
 * up the connector handle, checks the dialect fits the connector's kind (the policy allowed the kind at
 * `connector.open`), opens a `SqlSession` on that connector and runs the materialization engine on it, with
 * the pipeline's other calls on the same connector held back until it ends (they would otherwise land inside
 * the engine's transaction). The answer — `{strategy, targetTable, rowsAffected, statements, durationMs,
 * dialect}` — is capped and scrubbed of secrets.
 */
import type { PolicyLimits } from "../../policies";
import { SESSION_DIALECTS, openSqlSession, type HostConnector } from "../../runtime/connectors";
import { TauSdkError } from "../../runtime/sdk/errors";
import type { Dialect, MaterializationSpec, MaterializeResult, SqlSession } from "../../runtime/sdk/materializations/spec";
import { DIALECTS, validateSpec } from "../../runtime/sdk/materializations/validate";
import { TauError, isErrorCode } from "../../server/contract";
import { isJsonObject, utf8Bytes } from "../json-guard";
import type { SecretScrubber } from "../scrub";

/** The engine's entry (runtime/materializations: `materialize`). */
export type MaterializeEngine = (spec: MaterializationSpec, session: SqlSession, opts: { now: Date; runId: string }) => Promise<MaterializeResult>;

export interface MaterializeOpDeps {
  /** The run being served, from the bridge (never from the guest); null in describe mode. */
  runId: string | null;
  /** The open connector behind a guest handle; null when the handle is unknown or closing. */
  connector(handle: unknown): HostConnector | null;
  engine: MaterializeEngine;
  scrubber: SecretScrubber;
  limits: PolicyLimits;
}

/** Largest spec accepted (its fields are capped one by one too; this bounds the whole). */
const SPEC_MAX_BYTES = 4 * 1024 * 1024;
/** Each statement in the answer is cut to this, and all of them to ANSWER_STATEMENTS_MAX (or a quarter of the bridge limit). */
const STATEMENT_MAX = 64 * 1024;
const ANSWER_STATEMENTS_MAX = 4 * 1024 * 1024;

const busy = new WeakMap<HostConnector, Promise<void>>();

/**
 * Resolves when no materialization holds `connector` (null when none does now). The bridge awaits it before
 * any other call on the connector.
 */
export function materializationOn(connector: HostConnector): Promise<void> | null {
  return busy.get(connector) ?? null;
}

/** Runs `fn` with `connector` to itself: after earlier materializations on it, and ahead of later calls. */
async function exclusive<T>(connector: HostConnector, fn: () => Promise<T>): Promise<T> {
  const before = busy.get(connector) ?? Promise.resolve();
  let done!: () => void;
  const mine = new Promise<void>((resolve) => {
    done = resolve;
  });
  const held = before.then(() => mine);
  busy.set(connector, held);
  try {
    await before;
    return await fn();
  } finally {
    done();
    if (busy.get(connector) === held) busy.delete(connector);
  }
}

/** The SDK's validation error (pure, shared with the guest) as the host's TauError. */
function hostError(err: unknown): unknown {
  if (err instanceof TauSdkError && isErrorCode(err.code)) return new TauError(err.code, err.message, err.details, err.hint);
  return err;
}

function dialectFor(connector: HostConnector, requested: unknown): Dialect {
  if (requested === undefined || requested === null) {
    const own = SESSION_DIALECTS[connector.kind];
    if (own === undefined) {
      throw new TauError(
        "TAU_E_MATERIALIZE_CONFIG",
        `ctx.materialize: the ${connector.kind} connector cannot run SQL materializations.`,
        { field: "connector", config: "ctx.materialize", kind: connector.kind },
        `Materialize on a SQL connector: ${Object.keys(SESSION_DIALECTS).join(", ")}.`,
      );
    }
    return own;
  }
  if (typeof requested !== "string" || !(DIALECTS as readonly string[]).includes(requested)) {
    throw new TauError(
      "TAU_E_MATERIALIZE_CONFIG",
      `ctx.materialize: dialect must be one of ${DIALECTS.join(", ")}.`,
      { field: "dialect", config: "ctx.materialize" },
      "Omit dialect to use the connector's own.",
    );
  }
  return requested as Dialect;
}

/** The statements as the answer carries them: each capped, the list bounded, secrets scrubbed. */
function answerStatements(statements: readonly string[], limits: PolicyLimits, scrubber: SecretScrubber): string[] {
  const budget = Math.min(ANSWER_STATEMENTS_MAX, Math.floor(limits.bridgeBytes / 4));
  const out: string[] = [];
  let total = 0;
  for (let i = 0; i < statements.length; i++) {
    let text = scrubber.scrubText(statements[i]!);
    if (text.length > STATEMENT_MAX) text = `${text.slice(0, STATEMENT_MAX)}… [truncated ${text.length - STATEMENT_MAX} chars]`;
    const bytes = utf8Bytes(text);
    if (total + bytes > budget) {
      out.push(`-- ${statements.length - i} more statements not shown (answer limit ${budget} bytes)`);
      break;
    }
    total += bytes;
    out.push(text);
  }
  return out;
}

function checkResult(value: unknown): MaterializeResult {
  const r = isJsonObject(value) ? value : {};
  const rows = r.rowsAffected;
  const ok =
    typeof r.strategy === "string" &&
    typeof r.targetTable === "string" &&
    typeof rows === "number" &&
    Number.isInteger(rows) &&
    rows >= 0 &&
    Array.isArray(r.statements) &&
    r.statements.every((s) => typeof s === "string");
  if (!ok) throw new TauError("TAU_E_INTERNAL", "The materialization engine returned a result of the wrong shape.");
  return r as unknown as MaterializeResult;
}

/**
 * Runs one `materialize` operation. Resolves with the answer's value; rejects with TauError (answered to the
 * guest by the bridge, which scrubs it).
 */
export async function materializeOp(payload: unknown, deps: MaterializeOpDeps): Promise<Record<string, unknown>> {
  const p = isJsonObject(payload) ? payload : {};
  const specBytes = utf8Bytes(JSON.stringify(p.spec ?? null));
  if (specBytes > SPEC_MAX_BYTES) {
    throw new TauError("TAU_E_BRIDGE_PAYLOAD_TOO_LARGE", `The materialization spec is ${specBytes} bytes; the limit is ${SPEC_MAX_BYTES}.`, { limitBytes: SPEC_MAX_BYTES });
  }
  let spec: MaterializationSpec;
  try {
    spec = validateSpec(p.spec, "materialization spec");
  } catch (err) {
    throw hostError(err);
  }
  const runId = deps.runId;
  if (runId === null) throw new TauError("TAU_E_BRIDGE_OP_UNKNOWN", "materialize is available only while a pipeline runs.");
  const connector = deps.connector(p.handle);
  if (connector === null) throw new TauError("TAU_E_CONNECTOR_CLOSED", "The connector passed to ctx.materialize is closed or was not opened in this run.");
  const dialect = dialectFor(connector, p.dialect);

  return exclusive(connector, async () => {
    const session = openSqlSession(connector, dialect);
    const started = performance.now();
    let result: MaterializeResult;
    try {
      result = checkResult(await deps.engine(spec, session, { now: new Date(), runId }));
    } catch (err) {
      await session.release(true);
      throw err;
    }
    await session.release(false);
    const statements = result.statements.length > 0 ? result.statements : session.statements;
    return {
      strategy: result.strategy,
      targetTable: deps.scrubber.scrubText(result.targetTable),
      rowsAffected: result.rowsAffected,
      statements: answerStatements(statements, deps.limits, deps.scrubber),
      durationMs: typeof result.durationMs === "number" && Number.isFinite(result.durationMs) ? Math.max(0, Math.round(result.durationMs)) : Math.round(performance.now() - started),
      dialect,
    };
  });
}
