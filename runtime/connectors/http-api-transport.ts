/**
 * The network floor under `http_api` (and the egress check `s3` shares): resolve a URL's host, check the
 * tenant's egress policy against the resolved addresses, then connect to exactly the checked address — the
 * socket's `lookup` is pinned, so a DNS answer that changes between the check and the connect (rebinding)
 * cannot reach a host the policy denies. One request per call of `sendOnce`: no retries here (the client
 * adds them), a per-request deadline (AbortController) and a byte cap on the response body.
 */
import { lookup as dnsLookup } from "node:dns/promises";
import http from "node:http";
import https from "node:https";
import { isIP, type LookupFunction } from "node:net";
import zlib from "node:zlib";
import { checkEgress, type Policy } from "../../policies";
import { TauError } from "../../server/contract";

/**
 * A destination that passed the egress check: connect to `address`, present `host` (Host header, TLS SNI).
 *
 * @example
 * ```ts
 * const target: CheckedTarget = await resolveEgress(policy, "api.example.com", 443, "http_api"); // { host, port, address: "93.184.215.14", family: 4 }
 * ```
 */
export interface CheckedTarget {
  host: string;
  port: number;
  address: string;
  family: 4 | 6;
}

/**
 * Strips IPv6 brackets from `URL.hostname`.
 *
 * @example
 * ```ts
 * bareHost(new URL("http://[::1]:8080/").hostname); // "::1"
 * ```
 */
export function bareHost(hostname: string): string {
  return hostname.startsWith("[") && hostname.endsWith("]") ? hostname.slice(1, -1) : hostname;
}

/**
 * Resolves `host` and checks the tenant's egress policy for `host:port`. Throws TAU_E_POLICY_DENIED (denied),
 * TAU_E_CONNECTOR_UNREACHABLE (the name does not resolve). `kind` names the connector in messages.
 *
 * @example
 * ```ts
 * const target = await resolveEgress(ctx.policy, url.hostname, portOf(url), "http_api"); // throws TAU_E_POLICY_DENIED when denied
 * ```
 */
export async function resolveEgress(policy: Policy, host: string, port: number, kind: string): Promise<CheckedTarget> {
  const name = bareHost(host);
  let addresses: { address: string; family: number }[];
  const literal = isIP(name);
  if (literal !== 0) {
    addresses = [{ address: name, family: literal }];
  } else {
    try {
      addresses = await dnsLookup(name, { all: true, verbatim: true });
    } catch (err) {
      // A name the policy denies is a denial whether or not it resolves (host rules need no addresses).
      const denied = checkEgress(policy, { host: name, port, addresses: [] });
      if (denied) throw new TauError("TAU_E_POLICY_DENIED", `${kind}: ${denied.message}`, { rule: denied.rule, kind, host: name, port });
      throw new TauError("TAU_E_CONNECTOR_UNREACHABLE", `${kind}: the host name ${name} does not resolve (${(err as NodeJS.ErrnoException).code ?? "DNS error"}).`, {
        kind,
        host: name,
        port,
      });
    }
  }
  const denial = checkEgress(policy, { host: name, port, addresses: addresses.map((a) => a.address) });
  if (denial) throw new TauError("TAU_E_POLICY_DENIED", `${kind}: ${denial.message}`, { rule: denial.rule, kind, host: name, port });
  if (addresses.length === 0) throw new TauError("TAU_E_CONNECTOR_UNREACHABLE", `${kind}: the host name ${name} has no addresses.`, { kind, host: name, port });
  const first = addresses[0];
  return { host: name, port, address: first.address, family: first.family === 6 ? 6 : 4 };
}

/**
 * A socket `lookup` that answers the checked address for the checked host and refuses any other name, so a
 * library (the AWS SDK, an agent) cannot resolve a host by itself behind the policy's back.
 *
 * @example
 * ```ts
 * const agent = new https.Agent({ keepAlive: true, lookup: pinnedLookup(target) });
 * ```
 */
export function pinnedLookup(target: CheckedTarget): LookupFunction {
  return ((hostname: string, options: { all?: boolean } | number | undefined, callback: (...args: unknown[]) => void): void => {
    const cb = typeof options === "function" ? (options as (...args: unknown[]) => void) : callback;
    if (bareHost(hostname).toLowerCase() !== target.host.toLowerCase()) {
      const err = Object.assign(new Error(`refusing to resolve ${hostname}: only ${target.host} passed the egress check`), { code: "ENOTFOUND" });
      cb(err);
      return;
    }
    if (typeof options === "object" && options !== null && options.all) cb(null, [{ address: target.address, family: target.family }]);
    else cb(null, target.address, target.family);
  }) as LookupFunction;
}

/**
 * The default port of an http(s) URL.
 *
 * @example
 * ```ts
 * portOf(new URL("https://api.example.com/")); // 443
 * portOf(new URL("http://localhost:8080/"));   // 8080
 * ```
 */
export function portOf(url: URL): number {
  if (url.port !== "") return Number(url.port);
  return url.protocol === "https:" ? 443 : 80;
}

/**
 * One exchange for `sendOnce`.
 *
 * @example
 * ```ts
 * const spec: SendSpec = { method: "GET", url, headers: {}, timeoutMs: 30_000, maxBytes: 1 << 20, signal: new AbortController().signal };
 * ```
 */
export interface SendSpec {
  method: string;
  url: URL;
  headers: Record<string, string>;
  body?: Buffer;
  /** Deadline for the whole exchange, connect to last body byte. */
  timeoutMs: number;
  /** A response body larger than this fails with TAU_E_CONNECTOR_RESPONSE_TOO_LARGE. */
  maxBytes: number;
  /** Aborts the request (the connector closed). */
  signal: AbortSignal;
  /**
   * A keep-alive agent of the connector (its sockets were all opened through `pinnedLookup` of a checked
   * target, so reusing one never reaches an unchecked address). Absent: one connection per request.
   */
  agent?: http.Agent;
}

/**
 * What `sendOnce` resolves to: the status, the headers and the whole (capped) body.
 *
 * @example
 * ```ts
 * const { status, body }: SendResult = await sendOnce(target, spec);
 * ```
 */
export interface SendResult {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: Buffer;
}

/**
 * Raised for a request that ran past its deadline (converted to TAU_E_CONNECTOR_TIMEOUT by the caller).
 *
 * @example
 * ```ts
 * if (err instanceof RequestTimeout) console.log(`gave up after ${err.timeoutMs} ms`);
 * ```
 */
export class RequestTimeout extends Error {
  constructor(readonly timeoutMs: number) {
    super(`no complete answer within ${timeoutMs} ms`);
    this.name = "RequestTimeout";
  }
}

/**
 * Raised when a response body passes the byte cap.
 *
 * @example
 * ```ts
 * if (err instanceof ResponseTooLarge) console.log(`cap: ${err.limitBytes} bytes`);
 * ```
 */
export class ResponseTooLarge extends Error {
  constructor(readonly limitBytes: number) {
    super(`the response body is larger than ${limitBytes} bytes`);
    this.name = "ResponseTooLarge";
  }
}

/**
 * Raised when the connector closed while the request was in flight.
 *
 * @example
 * ```ts
 * if (err instanceof RequestAborted) throw new TauError("TAU_E_CONNECTOR_CLOSED");
 * ```
 */
export class RequestAborted extends Error {
  constructor() {
    super("the connector was closed while the request was in flight");
    this.name = "RequestAborted";
  }
}

/**
 * One HTTP exchange with the checked target. Rejects with RequestTimeout, ResponseTooLarge, RequestAborted or a socket error.
 *
 * @example
 * ```ts
 * const target = await resolveEgress(policy, url.hostname, portOf(url), "http_api");
 * const res = await sendOnce(target, { method: "GET", url, headers: {}, timeoutMs: 5000, maxBytes: 1 << 20, signal });
 * ```
 */
export function sendOnce(target: CheckedTarget, spec: SendSpec): Promise<SendResult> {
  return new Promise<SendResult>((resolve, reject) => {
    if (spec.signal.aborted) {
      reject(new RequestAborted());
      return;
    }
    const secure = spec.url.protocol === "https:";
    const headers: Record<string, string> = { "accept-encoding": "gzip, deflate, br", ...spec.headers };
    if (spec.body !== undefined) headers["content-length"] = String(spec.body.length);
    const options: https.RequestOptions = {
      method: spec.method,
      host: target.host,
      port: target.port,
      path: `${spec.url.pathname}${spec.url.search}`,
      headers,
      lookup: pinnedLookup(target),
      agent: spec.agent ?? false,
      // Node's connect would try the literal itself; the lookup is only consulted for names.
      family: target.family,
    };
    if (secure && isIP(target.host) === 0) options.servername = target.host;
    let settled = false;
    const finish = (err: Error | null, value?: SendResult): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      spec.signal.removeEventListener("abort", onAbort);
      if (err) {
        req.destroy();
        reject(err);
      } else resolve(value!);
    };
    const onAbort = (): void => finish(new RequestAborted());
    const timer = setTimeout(() => finish(new RequestTimeout(spec.timeoutMs)), spec.timeoutMs);
    spec.signal.addEventListener("abort", onAbort, { once: true });
    const req = (secure ? https : http).request(options, (res) => {
      const declared = Number(res.headers["content-length"]);
      if (Number.isFinite(declared) && declared > spec.maxBytes) {
        finish(new ResponseTooLarge(spec.maxBytes));
        res.destroy();
        return;
      }
      // The cap counts decoded bytes: a small compressed body must not inflate past it.
      const encoding = String(res.headers["content-encoding"] ?? "identity").trim().toLowerCase();
      const decoder =
        encoding === "gzip" || encoding === "x-gzip"
          ? zlib.createGunzip()
          : encoding === "deflate"
            ? zlib.createInflate()
            : encoding === "br"
              ? zlib.createBrotliDecompress()
              : null;
      const body = decoder ? res.pipe(decoder) : res;
      const chunks: Buffer[] = [];
      let bytes = 0;
      body.on("data", (chunk: Buffer) => {
        bytes += chunk.length;
        if (bytes > spec.maxBytes) {
          finish(new ResponseTooLarge(spec.maxBytes));
          res.destroy();
          decoder?.destroy();
          return;
        }
        chunks.push(chunk);
      });
      body.on("end", () => {
        const headers = { ...res.headers };
        // What the caller sees is the decoded body; the wire encoding and length no longer describe it.
        if (decoder) {
          delete headers["content-encoding"];
          delete headers["content-length"];
        }
        finish(null, { status: res.statusCode ?? 0, headers, body: Buffer.concat(chunks) });
      });
      res.on("error", (err) => finish(err));
      res.on("aborted", () => finish(Object.assign(new Error("the server closed the connection mid-response"), { code: "ECONNRESET" })));
      decoder?.on("error", () =>
        finish(new TauError("TAU_E_CONNECTOR_DATA_INVALID", `the response body is not valid ${encoding} data`, { format: encoding, where: "content-encoding" })),
      );
    });
    req.on("error", (err) => finish(err));
    req.end(spec.body);
  });
}
