/**
 * Relations the engine reads and writes: the target, and the helper tables it builds next to it (staging, new
 * build, old copy). Names are parsed once here; every dialect quotes them, none is ever interpolated raw.
 */
import { createHash } from "node:crypto";
import { TauError } from "../../server/contract";

export interface Relation {
  /** null: the session's current schema (database, dataset). */
  readonly schema: string | null;
  readonly name: string;
}

// Printable names only: a control character in an identifier is never intended and some drivers truncate at NUL.
const BAD_IDENTIFIER = /[\u0000-\u001f\u007f]/;

export function checkIdentifier(value: string, field: string): string {
  if (typeof value !== "string" || value.length === 0 || value.length > 128 || BAD_IDENTIFIER.test(value)) {
    throw new TauError("TAU_E_MATERIALIZE_CONFIG", `${field} must be a name of 1-128 printable characters.`, {
      field,
      value: typeof value === "string" ? value.slice(0, 140) : null,
    });
  }
  return value;
}

/** `schema.table` or `table`. A name with more dots is ambiguous and refused. */
export function parseTarget(targetTable: string): Relation {
  const parts = typeof targetTable === "string" ? targetTable.split(".") : [];
  if (parts.length === 1) return { schema: null, name: checkIdentifier(parts[0]!, "targetTable") };
  if (parts.length === 2) {
    return { schema: checkIdentifier(parts[0]!, "targetTable"), name: checkIdentifier(parts[1]!, "targetTable") };
  }
  throw new TauError("TAU_E_MATERIALIZE_CONFIG", "targetTable must be `schema.table` or `table`.", {
    field: "targetTable",
    value: String(targetTable).slice(0, 140),
  });
}

/**
 * A helper relation in the target's schema, e.g. `orders__tau_stage_1a2b3c4d`. The suffix depends on the run id
 * so that two runs never share a helper table; the base is cut so the whole name fits PostgreSQL's 63 bytes.
 */
export function helperRelation(target: Relation, role: "stage" | "new" | "old", runId: string): Relation {
  const tag = createHash("sha256").update(`${runId}\u0000${target.schema ?? ""}.${target.name}`).digest("hex").slice(0, 8);
  const suffix = `__tau_${role}_${tag}`;
  const base = Buffer.from(target.name, "utf8").subarray(0, 63 - suffix.length).toString("utf8").replace(/\uFFFD+$/, "");
  return { schema: target.schema, name: base + suffix };
}

export function displayName(rel: Relation): string {
  return rel.schema === null ? rel.name : `${rel.schema}.${rel.name}`;
}
