/** Parsing of flag values that clipanion hands over as strings, with JSON errors that name the flag. */
import { TauError } from "../server/contract";
import { usageError } from "./exit-codes";

export interface NumberFlagRules {
  min?: number;
  integer?: boolean;
}

/** `undefined` when the flag was not given; a usage error when it is not a number within the rules. */
export function parseNumberFlag(flag: string, raw: string | undefined, rules: NumberFlagRules = {}): number | undefined {
  if (raw === undefined) return undefined;
  const value = Number(raw.trim());
  const integer = rules.integer ?? true;
  const valid =
    raw.trim() !== "" && Number.isFinite(value) && (!integer || Number.isInteger(value)) && (rules.min === undefined || value >= rules.min);
  if (!valid) {
    const expected = `${integer ? "an integer" : "a number"}${rules.min === undefined ? "" : ` ≥ ${rules.min}`}`;
    throw usageError(`${flag} expects ${expected}, got ${JSON.stringify(raw)}.`, { flag, value: raw, expected });
  }
  return value;
}

/** `--params '{json}'`: must be a JSON object. */
export function parseParams(raw: string | undefined): Record<string, unknown> {
  if (raw === undefined) return {};
  let value: unknown;
  try {
    value = JSON.parse(raw);
  } catch (err) {
    throw new TauError("TAU_E_PARAMS_INVALID", `--params is not valid JSON: ${(err as Error).message}`, { params: raw });
  }
  if (value === null || typeof value !== "object" || Array.isArray(value)) {
    const got = value === null ? "null" : Array.isArray(value) ? "an array" : `a ${typeof value}`;
    throw new TauError("TAU_E_PARAMS_INVALID", `--params must be a JSON object, got ${got}.`, { params: raw });
  }
  return value as Record<string, unknown>;
}
