/**
 * Building blocks of the API's JSON Schemas (schemas.ts): the scalar types every view shares and the
 * `object()` helper that fixes the policy of every view: all listed properties required, no others.
 *
 * Two consumers read these objects, so a keyword here must suit both:
 * - fastify serialises responses with them (fast-json-stringify): it drops properties a schema does not
 *   list unless `additionalProperties` is true, and it picks an `anyOf` branch by validating the value,
 *   so a value constraint inside a nullable view (`lastRun`, `error`) must hold for every real value;
 * - `cli/schemas/*.schema.json` are generated from them (schemas-cli.ts), and the CLI's tests validate
 *   real outputs against those with the keyword subset of test/cli/helpers/json-schema.ts.
 *   Response schemas therefore use only: type, enum, const, properties, required, additionalProperties,
 *   items, anyOf, oneOf, minimum, minLength, pattern, format, description.
 */
import { ERROR_CODES } from "./errors";

/** A JSON Schema, as a plain object. */
export type Schema = Record<string, unknown>;

export const nullable = (type: string, extra: Schema = {}): Schema => ({ type: [type, "null"], ...extra });

/** ISO-8601 UTC time, as `Date.prototype.toISOString()` prints it. */
export const Time: Schema = { type: "string", format: "date-time" };
export const TimeOrNull: Schema = { type: ["string", "null"], format: "date-time" };
/** A free-form JSON object (kept whole by the serialiser). */
export const Dict: Schema = { type: "object", additionalProperties: true };
/** Any JSON value. */
export const AnyJson: Schema = {};
/** A non-empty string: names, ids, hashes. */
export const Name: Schema = { type: "string", minLength: 1 };
export const StringList: Schema = { type: "array", items: { type: "string" } };
/** A version number of a pipeline (the first deploy is 1). */
export const VersionNumber: Schema = { type: "integer", minimum: 1 };
/** A count or a duration in ms: never negative. */
export const Count: Schema = { type: "integer", minimum: 0 };
export const CountOrNull: Schema = { type: ["integer", "null"], minimum: 0 };

/** A registered error code (server/contract/errors.ts); the pattern states the namespace for readers. */
export const ErrorCode: Schema = { type: "string", pattern: "^TAU_E_[A-Z0-9_]+$", enum: [...ERROR_CODES] };
export const RunStatus: Schema = { type: "string", enum: ["queued", "running", "succeeded", "failed", "skipped", "cancelled"] };
export const RunTrigger: Schema = { type: "string", enum: ["manual", "schedule", "dag", "heal"] };
export const StepStatus: Schema = { type: "string", enum: ["running", "succeeded", "failed"] };
export const LogLevel: Schema = { type: "string", enum: ["debug", "info", "warn", "error"] };

/** An object with exactly these properties, all required unless `extra.required` says otherwise. */
export const object = (properties: Record<string, Schema>, extra: Schema = {}): Schema => ({
  type: "object",
  properties,
  required: Object.keys(properties),
  additionalProperties: false,
  ...extra,
});

/** `schema`, or null. */
export const orNull = (schema: Schema): Schema => ({ anyOf: [schema, { type: "null" }] });
