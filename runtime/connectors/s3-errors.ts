/**
 * `s3`'s one error converter: AWS SDK service exceptions (by their S3 error code), socket failures and SDK
 * timeouts become Tau codes here. Messages name the bucket and key, never credentials.
 */
import { TauError, type ErrorCode } from "../../server/contract";
import { isNetworkError } from "./http-api-errors";

/**
 * What a converted s3 error names: the operation, the bucket and key, and where the client connected.
 *
 * @example
 * ```ts
 * const ctx: S3ErrorContext = { op: "read", bucket: "acme", key: "in/orders.csv", host: "acme.s3.eu-west-1.amazonaws.com", port: 443 };
 * ```
 */
export interface S3ErrorContext {
  op: string;
  bucket: string;
  key?: string;
  host: string;
  port: number;
}

const BY_NAME: Record<string, ErrorCode> = {
  NoSuchKey: "TAU_E_CONNECTOR_UNKNOWN_OBJECT",
  NoSuchBucket: "TAU_E_CONNECTOR_UNKNOWN_OBJECT",
  NotFound: "TAU_E_CONNECTOR_UNKNOWN_OBJECT",
  AccessDenied: "TAU_E_CONNECTOR_PERMISSION_DENIED",
  AllAccessDisabled: "TAU_E_CONNECTOR_PERMISSION_DENIED",
  AccountProblem: "TAU_E_CONNECTOR_PERMISSION_DENIED",
  InvalidAccessKeyId: "TAU_E_CONNECTOR_AUTH_FAILED",
  SignatureDoesNotMatch: "TAU_E_CONNECTOR_AUTH_FAILED",
  ExpiredToken: "TAU_E_CONNECTOR_AUTH_FAILED",
  InvalidToken: "TAU_E_CONNECTOR_AUTH_FAILED",
  TokenRefreshRequired: "TAU_E_CONNECTOR_AUTH_FAILED",
  CredentialsProviderError: "TAU_E_CONNECTOR_AUTH_FAILED",
  SlowDown: "TAU_E_CONNECTOR_SERVICE_UNAVAILABLE",
  ServiceUnavailable: "TAU_E_CONNECTOR_SERVICE_UNAVAILABLE",
  InternalError: "TAU_E_CONNECTOR_SERVICE_UNAVAILABLE",
  RequestTimeout: "TAU_E_CONNECTOR_TIMEOUT",
  TimeoutError: "TAU_E_CONNECTOR_TIMEOUT",
  RequestTimeTooSkewed: "TAU_E_CONNECTOR_AUTH_FAILED",
};

const HINTS: Partial<Record<ErrorCode, string>> = {
  TAU_E_CONNECTOR_UNKNOWN_OBJECT: "Check the bucket and key (list(prefix) shows what exists); details.bucket and details.key say what was asked for.",
  TAU_E_CONNECTOR_PERMISSION_DENIED: "The credentials are valid but may not do this on the bucket: check the IAM policy (s3:GetObject, s3:PutObject, s3:ListBucket, s3:DeleteObject).",
  TAU_E_CONNECTOR_AUTH_FAILED: "Check accessKeyId and secretAccessKey (and sessionToken) — the secrets passed with ctx.secret — and the machine's clock.",
  TAU_E_CONNECTOR_UNREACHABLE: "Check the endpoint (or region) and that the network allows it; details.host and details.port say where Tau tried to connect.",
  TAU_E_CONNECTOR_TIMEOUT: "S3 did not answer in time; retry.",
};

/**
 * Converts anything the S3 client threw into a TauError. TauErrors pass through.
 *
 * @example
 * ```ts
 * try { await client.send(new GetObjectCommand({ Bucket, Key })); }
 * catch (err) { throw convertS3Error(err, { op: "read", bucket: Bucket, key: Key, host, port }); } // NoSuchKey → TAU_E_CONNECTOR_UNKNOWN_OBJECT
 * ```
 */
export function convertS3Error(err: unknown, ctx: S3ErrorContext): TauError {
  if (err instanceof TauError) return err;
  const e = (err ?? {}) as { name?: string; Code?: string; code?: string; message?: string; $metadata?: { httpStatusCode?: number } };
  const name = typeof e.Code === "string" ? e.Code : typeof e.name === "string" ? e.name : "Error";
  const status = e.$metadata?.httpStatusCode;
  const target = ctx.key === undefined ? `s3://${ctx.bucket}` : `s3://${ctx.bucket}/${ctx.key}`;
  const details: Record<string, unknown> = { kind: "s3", op: ctx.op, bucket: ctx.bucket };
  if (ctx.key !== undefined) details.key = ctx.key;
  if (isNetworkError(err)) {
    return new TauError("TAU_E_CONNECTOR_UNREACHABLE", `s3: cannot reach ${ctx.host}:${ctx.port} for ${ctx.op} ${target} (${e.code}).`, { ...details, host: ctx.host, port: ctx.port, cause: e.code }, HINTS.TAU_E_CONNECTOR_UNREACHABLE);
  }
  let code: ErrorCode | undefined = BY_NAME[name];
  if (code === undefined && status !== undefined) {
    if (status === 404) code = "TAU_E_CONNECTOR_UNKNOWN_OBJECT";
    else if (status === 403) code = "TAU_E_CONNECTOR_PERMISSION_DENIED";
    else if (status === 401) code = "TAU_E_CONNECTOR_AUTH_FAILED";
    else if (status === 429 || status >= 500) code = "TAU_E_CONNECTOR_SERVICE_UNAVAILABLE";
  }
  code ??= "TAU_E_CONNECTOR_REQUEST_REJECTED";
  if (status !== undefined) details.status = status;
  details.s3Error = name;
  const why = typeof e.message === "string" && e.message !== "" && e.message !== "UnknownError" ? `: ${e.message.slice(0, 300)}` : "";
  return new TauError(code, `s3: ${ctx.op} ${target} failed with ${name}${why}`, details, HINTS[code]);
}
