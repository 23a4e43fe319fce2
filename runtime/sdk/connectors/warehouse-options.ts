/**
 * Option checks shared by the cloud-warehouse factories (clickhouse, bigquery, snowflake): a misspelt or
 * mistyped option fails at the factory call, with the pipeline's line, before anything reaches the host
 * (which checks everything again). Internal to the SDK.
 */
import { createSdkError } from "../errors";
import { ObjectHasOwn, arrayJoin } from "../primordials";

export type OptionType = "string" | "number" | "object";

/** Copies the known options of `options` (dropping undefined ones), or throws TAU_E_CONNECTOR_ARGS_INVALID. */
export function pickOptions(
  kind: string,
  options: unknown,
  spec: Readonly<Record<string, OptionType>>,
  required: readonly string[],
  example: string,
): Record<string, unknown> {
  const fail = (message: string): never => {
    throw createSdkError("TAU_E_CONNECTOR_ARGS_INVALID", `${kind}: ${message}`, { hint: `Pass e.g. ${example}.`, details: { kind } });
  };
  if (typeof options !== "object" || options === null) return fail("options must be an object.");
  const o = options as Record<string, unknown>;
  const picked: Record<string, unknown> = {};
  for (const key in o) {
    if (!ObjectHasOwn(o, key)) continue;
    const type = ObjectHasOwn(spec, key) ? spec[key] : undefined;
    if (type === undefined) {
      const known: string[] = [];
      for (const k in spec) known[known.length] = k;
      fail(`unknown option '${key}' (options: ${arrayJoin(known, ", ")}).`);
    }
    const value = o[key];
    if (value === undefined) continue;
    if (type === "string" && (typeof value !== "string" || value === "")) fail(`${key} must be a non-empty string.`);
    if (type === "number" && (typeof value !== "number" || !(value > 0))) fail(`${key} must be a positive number.`);
    if (type === "object" && (typeof value !== "object" || value === null)) fail(`${key} must be an object.`);
    picked[key] = value;
  }
  for (let i = 0; i < required.length; i++) {
    if (picked[required[i]] === undefined) fail(`needs the option '${required[i]}'.`);
  }
  return picked;
}
