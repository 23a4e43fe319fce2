/**
 * The host side of the bridge for one run: decodes an operation's payload (size and depth checked), checks
 * it against the tenant policy, acts, and answers JSON. Handlers never throw or reject into the guest: every
 * failure becomes `{"ok":false,"error":{code,message,hint,details}}` with secrets scrubbed and host stacks and
 * paths removed. docs/bridge-protocol.md is the contract.
 */
import { checkConnector, type Policy, type PolicyLimits } from "../../policies";
import { RawJson, type ConnectorHost, type HostConnector, type RowSource } from "../../runtime/connectors";
import { ERRORS, TauError, isErrorCode, type ErrorCode } from "../../server/contract";
import { isJsonObject, parseGuardedJson, stringifyGuarded, utf8Bytes } from "../json-guard";
import type { SecretScrubber } from "../scrub";
import { materialize as materializeEngine } from "../../runtime/materializations";
import { RunCursors, isLoadingConnector } from "./connector-streams";
import { materializationOn, materializeOp, type MaterializeEngine } from "./materialize-op";
import { PipelinedLoads } from "./pipelined-load";
import { PART_OF, decodeRowBatch } from "./row-batch";
import type { RunEvents } from "./run-events";
import { capText } from "./run-error";
import { stripHostDetails, stripHostDetailsDeep } from "./sanitize";
import type { RunSecrets } from "./secrets";

export interface BridgeOptions {
  /** "describe" allows only `log`. */
  mode: "run" | "describe";
  /** The run the bridge serves (null in describe mode); host-side operations take it from here, never from the guest. */
  runId: string | null;
  policy: Policy;
  limits: PolicyLimits;
  dataDir: string;
  events: RunEvents;
  secrets: RunSecrets;
  scrubber: SecretScrubber;
  connectors: ConnectorHost;
  /** The materialization engine `materialize` runs (default: runtime/materializations). */
  materialize?: MaterializeEngine;
}

interface Handle {
  connector: HostConnector;
  closing: Promise<void> | null;
}

export class Bridge {
  private readonly handles = new Map<string, Handle>();
  private nextHandle = 1;
  private ended = false;
  private readonly inflight = new Set<Promise<unknown>>();
  private readonly cursors: RunCursors;
  private readonly loads: PipelinedLoads;

  constructor(private readonly o: BridgeOptions) {
    this.cursors = new RunCursors({ maxBatchRows: o.limits.extractRows });
    this.loads = new PipelinedLoads({
      connector: (handle) => {
        const h = typeof handle === "string" ? this.handles.get(handle) : undefined;
        return h && !h.closing ? h.connector : null;
      },
      start: (handle, connector, source, options) => this.track(this.loadParts(handle, connector, source, options)),
      maxBytes: o.limits.bridgeBytes,
    });
  }

  /** An asynchronous operation. Resolves with the answer JSON; never rejects. */
  async handle(op: unknown, payloadText: unknown): Promise<string> {
    try {
      if (typeof op !== "string") throw new TauError("TAU_E_BRIDGE_OP_UNKNOWN", "The operation name must be a string.");
      // connector.load carries rows as columns in its own framing (row-batch.ts), checked by its decoder.
      if (op === "connector.load") return this.ok(await this.connectorLoad(payloadText));
      const payload = this.decode(payloadText);
      const value = await this.dispatch(op, payload);
      return this.ok(value);
    } catch (err) {
      return this.fail(err);
    }
  }

  /** A synchronous operation (`secret.check`). Returns the answer JSON; never throws. */
  handleSync(op: unknown, payloadText: unknown): string {
    try {
      if (op !== "secret.check") {
        throw new TauError("TAU_E_BRIDGE_OP_UNKNOWN", `'${capText(String(op), 60)}' is not a synchronous operation.`, { op: capText(String(op), 60) });
      }
      if (this.o.mode === "describe") throw this.notWhileDescribing(op);
      const payload = this.decode(payloadText);
      return this.ok(this.o.secrets.check(isJsonObject(payload) ? payload.name : undefined));
    } catch (err) {
      return this.fail(err);
    }
  }

  /** Closes every connector the run left open and refuses later operations. Never rejects. */
  async end(): Promise<void> {
    this.ended = true;
    // A pipelined load still open is rolled back before its connector closes (pipelined-load.ts).
    await this.loads.abort(null, new TauError("TAU_E_CONNECTOR_CLOSED", "The run ended during the load."));
    await this.cursors.closeAll();
    const closing = [...this.handles.keys()].map((h) => this.closeHandle(h));
    await Promise.all(closing);
    // Opens that were in flight when the run ended close themselves (see connectorOpen).
    await Promise.all([...this.inflight].map((p) => p.catch(() => undefined)));
  }

  get openHandles(): number {
    return this.handles.size;
  }

  private decode(payloadText: unknown): unknown {
    const decoded = parseGuardedJson(payloadText, { maxBytes: this.o.limits.bridgeBytes, maxDepth: this.o.limits.jsonDepth });
    if (!decoded.ok) throw new TauError(decoded.problem.code, decoded.problem.message, decoded.problem.details);
    return decoded.value;
  }

  private async dispatch(op: string, payload: unknown): Promise<unknown> {
    if (this.ended) throw new TauError("TAU_E_CONNECTOR_CLOSED", "The run has ended.");
    if (op === "log") {
      this.o.events.log(payload);
      return {};
    }
    if (this.o.mode === "describe") throw this.notWhileDescribing(op);
    const p = isJsonObject(payload) ? payload : {};
    switch (op) {
      case "step.start":
        this.o.events.stepStart(payload);
        return {};
      case "step.end":
        this.o.events.stepEnd(payload);
        return {};
      case "secret.check":
        return this.o.secrets.check(p.name);
      case "connector.open":
        return this.track(this.connectorOpen(p));
      case "connector.call":
        return this.track(this.connectorCall(p));
      case "connector.loadEnd":
        return this.loads.end(payload);
      case "connector.close":
        if (typeof p.handle !== "string") throw new TauError("TAU_E_CONNECTOR_ARGS_INVALID", "connector.close needs a handle.");
        await this.closeHandle(p.handle);
        return {};
      case "materialize":
        return this.track(
          materializeOp(p, {
            runId: this.o.runId,
            connector: (handle) => {
              const h = typeof handle === "string" ? this.handles.get(handle) : undefined;
              return h && !h.closing ? h.connector : null;
            },
            engine: this.o.materialize ?? materializeEngine,
            scrubber: this.o.scrubber,
            limits: this.o.limits,
          }),
        );
      default:
        throw new TauError("TAU_E_BRIDGE_OP_UNKNOWN", `Unknown sandbox operation '${capText(op, 60)}'.`, { op: capText(op, 60) });
    }
  }

  private track<T>(p: Promise<T>): Promise<T> {
    this.inflight.add(p);
    const done = (): void => {
      this.inflight.delete(p);
    };
    p.then(done, done);
    return p;
  }

  private async connectorOpen(p: Record<string, unknown>): Promise<{ handle: string }> {
    const kind = p.kind;
    if (typeof kind !== "string" || kind === "") throw new TauError("TAU_E_CONNECTOR_ARGS_INVALID", "connector.open needs a connector kind.");
    const denial = checkConnector(this.o.policy, kind);
    if (denial) throw new TauError("TAU_E_POLICY_DENIED", denial.message, { rule: denial.rule, kind });
    const rawOptions = p.options === undefined || p.options === null ? {} : p.options;
    if (!isJsonObject(rawOptions)) throw new TauError("TAU_E_CONNECTOR_ARGS_INVALID", "Connector options must be an object.");
    const options = this.o.secrets.substitute(rawOptions);
    const connector = await this.o.connectors.open(kind, options, { dataDir: this.o.dataDir, policy: this.o.policy, limits: this.o.limits });
    if (this.ended) {
      await connector.close();
      throw new TauError("TAU_E_CONNECTOR_CLOSED", "The run ended while the connector was opening.");
    }
    const handle = `h${this.nextHandle++}`;
    this.handles.set(handle, { connector, closing: null });
    return { handle };
  }

  private async connectorCall(p: Record<string, unknown>): Promise<unknown> {
    const h = typeof p.handle === "string" ? this.handles.get(p.handle) : undefined;
    if (!h || h.closing) throw new TauError("TAU_E_CONNECTOR_CLOSED", h ? undefined : "Unknown connector handle.");
    if (typeof p.method !== "string") throw new TauError("TAU_E_CONNECTOR_ARGS_INVALID", "connector.call needs a method name.");
    const args = p.args === undefined ? [] : p.args;
    if (!Array.isArray(args)) throw new TauError("TAU_E_CONNECTOR_ARGS_INVALID", "connector.call args must be an array.");
    // A materialization on this connector runs its statements on the same connection: wait for it to end.
    const materializing = p.method.startsWith("cursor.") ? null : materializationOn(h.connector);
    if (materializing) await materializing;
    if (h.closing) throw new TauError("TAU_E_CONNECTOR_CLOSED");
    // Streams and loads go through the run's cursor registry (connector-streams.ts): cursors are per run,
    // and a load whose source is a query handle copies between two connectors on the host.
    if (p.method.startsWith("cursor.")) return this.cursors.call(p.handle as string, h.connector, p.method, args);
    if (p.method === "load") {
      const source = args[0];
      if (isJsonObject(source) && "query" in source) {
        const q = source.query;
        const from = isJsonObject(q) && typeof q.handle === "string" ? this.handles.get(q.handle) : undefined;
        if (!from || from.closing) throw new TauError("TAU_E_CONNECTOR_CLOSED", "The query handle's connector is closed or not open in this run.");
        return this.cursors.copy(h.connector, args[1], (q as Record<string, unknown>).handle as string, from.connector, q);
      }
      if (isLoadingConnector(h.connector)) return this.cursors.loadRows(h.connector, source, args[1]);
    }
    return h.connector.call(p.method, args);
  }

  /** `connector.load`: rows sent as columns (the columnar transport) into a connector's load. */
  private async connectorLoad(payloadText: unknown): Promise<unknown> {
    if (this.ended) throw new TauError("TAU_E_CONNECTOR_CLOSED", "The run has ended.");
    if (this.o.mode === "describe") throw this.notWhileDescribing("connector.load");
    let decoded: ReturnType<typeof decodeRowBatch>;
    try {
      decoded = decodeRowBatch(payloadText, { maxBytes: this.o.limits.bridgeBytes, maxDepth: this.o.limits.jsonDepth });
    } catch (err) {
      // A refused part fails its load (the final call reports the same error).
      if (typeof err === "object" && err !== null && PART_OF in err) this.loads.failOpen((err as { [PART_OF]: unknown })[PART_OF], err);
      throw err;
    }
    // A part of a pipelined load (pipelined-load.ts): answered once the load has taken it.
    if ("load" in decoded) return this.loads.part(decoded, Buffer.byteLength(payloadText as string, "utf8"));
    const { handle, options, batch } = decoded;
    const h = typeof handle === "string" ? this.handles.get(handle) : undefined;
    if (!h || h.closing) throw new TauError("TAU_E_CONNECTOR_CLOSED", h ? undefined : "Unknown connector handle.");
    const load = async (): Promise<unknown> => {
      const materializing = materializationOn(h.connector);
      if (materializing) await materializing;
      if (h.closing) throw new TauError("TAU_E_CONNECTOR_CLOSED");
      if (isLoadingConnector(h.connector)) return this.cursors.loadColumns(h.connector, batch, options);
      // A connector without loadFrom takes the rows as objects, as connector.call would have passed them.
      return h.connector.call("load", [batch.rows(), options]);
    };
    return this.track(load());
  }

  /** Part 1 of a pipelined load arrived: the driver's load of the parts as they come. */
  private async loadParts(handle: string, connector: HostConnector, source: RowSource, options: unknown): Promise<number> {
    const h = this.handles.get(handle);
    const materializing = materializationOn(connector);
    if (materializing) await materializing;
    if (!h || h.closing) throw new TauError("TAU_E_CONNECTOR_CLOSED");
    if (!isLoadingConnector(connector)) throw new TauError("TAU_E_BRIDGE_PAYLOAD_INVALID", `Pipelined load: ${capText(connector.kind, 40)} cannot take a load in parts.`);
    return this.cursors.loadSource(connector, source, options);
  }

  private closeHandle(handle: string): Promise<void> {
    const h = this.handles.get(handle);
    if (!h) return Promise.resolve();
    if (!h.closing) {
      h.closing = this.loads
        .abort(handle, new TauError("TAU_E_CONNECTOR_CLOSED", "The connector was closed during the load."))
        .then(() => this.cursors.closeFor(handle))
        .then(() => h.connector.close())
        .catch(() => undefined);
      h.closing.finally(() => this.handles.delete(handle));
    }
    return h.closing;
  }

  private notWhileDescribing(op: string): TauError {
    return new TauError("TAU_E_BRIDGE_OP_UNKNOWN", `'${capText(op, 60)}' is not available while a pipeline is described at deploy time; only logging is.`, {
      op: capText(op, 60),
    });
  }

  private ok(value: unknown): string {
    const limits = { maxBytes: this.o.limits.bridgeBytes, maxDepth: this.o.limits.jsonDepth + 2 };
    if (value instanceof RawJson) {
      // Built and size-checked by the driver; only the envelope is added.
      if (utf8Bytes(value.text) > limits.maxBytes) {
        return this.fail(new TauError("TAU_E_BRIDGE_PAYLOAD_TOO_LARGE", `The answer is larger than ${limits.maxBytes} bytes.`, { limitBytes: limits.maxBytes }));
      }
      return `{"ok":true,"value":${value.text}}`;
    }
    const text = stringifyGuarded({ ok: true, value: value ?? null }, limits, "answer");
    return text.ok ? text.value : this.fail(new TauError(text.problem.code, text.problem.message, text.problem.details));
  }

  /** The error answer: a registry code, a message without secrets, host stacks or host paths. */
  private fail(err: unknown): string {
    const hide = this.o.policy.duckdbAnyPath ? {} : { dataDir: this.o.dataDir };
    let code: ErrorCode = "TAU_E_INTERNAL";
    let message = "Internal error in the sandbox bridge.";
    let details: Record<string, unknown> = {};
    let hint: string | undefined;
    if (err instanceof TauError) {
      code = err.code;
      message = err.message;
      details = err.details;
      hint = err.hint;
    } else if (err instanceof Error) {
      message = `Internal error in the sandbox bridge: ${err.message}`;
      process.stderr.write(`tau executor: bridge handler failed: ${err.stack ?? err.message}\n`);
    }
    if (!isErrorCode(code)) code = "TAU_E_INTERNAL";
    const body = {
      code,
      message: capText(stripHostDetails(this.o.scrubber.scrubText(message), hide)),
      hint: stripHostDetails(this.o.scrubber.scrubText(hint ?? ERRORS[code].hint), hide),
      details: stripHostDetailsDeep(this.o.scrubber.scrubValue(details), hide),
    };
    const text = JSON.stringify({ ok: false, error: body });
    return utf8Bytes(text) <= this.o.limits.bridgeBytes
      ? text
      : JSON.stringify({ ok: false, error: { code, message: body.message.slice(0, 1000), hint: body.hint, details: {} } });
  }
}
