/**
 * A validator for the JSON Schema subset that cli/schemas/ uses (draft 2020-12 keywords): $ref (within a
 * file and to a sibling file), type, enum, const, properties, required, additionalProperties, items,
 * allOf, anyOf, oneOf, minimum, minLength, pattern, format "date-time" (ISO-8601 UTC, ending in Z).
 * A keyword outside the subset throws, so a schema cannot silently rely on something this does not check.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";

type Schema = boolean | { [keyword: string]: unknown };

const ANNOTATIONS = new Set(["$schema", "$id", "$defs", "title", "description", "examples"]);
const CHECKED = new Set([
  "$ref",
  "type",
  "enum",
  "const",
  "properties",
  "required",
  "additionalProperties",
  "items",
  "allOf",
  "anyOf",
  "oneOf",
  "minimum",
  "minLength",
  "pattern",
  "format",
]);

const ISO_UTC = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?Z$/;

export class SchemaSet {
  private readonly docs = new Map<string, Schema>();

  constructor(private readonly dir: string) {}

  /** Errors of `value` against `file` (e.g. "run.schema.json"); empty when valid. */
  validate(file: string, value: unknown): string[] {
    const errors: string[] = [];
    this.check(this.load(file), file, value, "$", errors);
    return errors;
  }

  load(file: string): Schema {
    let doc = this.docs.get(file);
    if (doc === undefined) {
      doc = JSON.parse(readFileSync(join(this.dir, file), "utf8")) as Schema;
      this.docs.set(file, doc);
    }
    return doc;
  }

  private resolve(ref: string, base: string): { schema: Schema; base: string } {
    const [filePart, pointer = ""] = ref.split("#");
    const file = filePart === "" ? base : filePart;
    let node: unknown = this.load(file);
    for (const token of pointer.split("/").filter(Boolean)) {
      node = (node as Record<string, unknown>)[token.replace(/~1/g, "/").replace(/~0/g, "~")];
      if (node === undefined) throw new Error(`unresolvable $ref ${ref} from ${base}`);
    }
    return { schema: node as Schema, base: file };
  }

  private check(schema: Schema, base: string, value: unknown, path: string, errors: string[]): void {
    if (schema === true) return;
    if (schema === false) {
      errors.push(`${path}: no value is allowed here`);
      return;
    }
    for (const keyword of Object.keys(schema)) {
      if (!ANNOTATIONS.has(keyword) && !CHECKED.has(keyword)) throw new Error(`schema keyword not supported: ${keyword} (${base})`);
    }
    const s = schema as Record<string, unknown>;

    if (typeof s.$ref === "string") {
      const target = this.resolve(s.$ref, base);
      this.check(target.schema, target.base, value, path, errors);
    }
    if (s.type !== undefined) {
      const types = Array.isArray(s.type) ? (s.type as string[]) : [s.type as string];
      if (!types.some((t) => hasType(value, t))) {
        errors.push(`${path}: expected ${types.join(" | ")}, got ${describe(value)}`);
        return;
      }
    }
    if (Array.isArray(s.enum) && !s.enum.some((e) => e === value)) {
      errors.push(`${path}: ${JSON.stringify(value)} is not one of ${JSON.stringify(s.enum)}`);
    }
    if ("const" in s && s.const !== value) errors.push(`${path}: expected ${JSON.stringify(s.const)}`);
    if (typeof value === "number" && typeof s.minimum === "number" && value < s.minimum) {
      errors.push(`${path}: ${value} < minimum ${s.minimum}`);
    }
    if (typeof value === "string") {
      if (typeof s.minLength === "number" && value.length < s.minLength) errors.push(`${path}: shorter than ${s.minLength}`);
      if (typeof s.pattern === "string" && !new RegExp(s.pattern, "u").test(value)) {
        errors.push(`${path}: ${JSON.stringify(value)} does not match ${s.pattern}`);
      }
      if (s.format === "date-time" && !ISO_UTC.test(value)) errors.push(`${path}: ${JSON.stringify(value)} is not an ISO-8601 UTC time`);
    }
    if (Array.isArray(value) && s.items !== undefined) {
      value.forEach((item, i) => this.check(s.items as Schema, base, item, `${path}[${i}]`, errors));
    }
    if (isObject(value)) {
      const properties = (s.properties ?? {}) as Record<string, Schema>;
      for (const key of (s.required ?? []) as string[]) {
        if (!(key in value)) errors.push(`${path}: missing required property ${key}`);
      }
      for (const [key, child] of Object.entries(value)) {
        if (key in properties) this.check(properties[key], base, child, `${path}.${key}`, errors);
        else if (s.additionalProperties !== undefined) {
          this.check(s.additionalProperties as Schema, base, child, `${path}.${key}`, errors);
        }
      }
    }
    for (const sub of (s.allOf ?? []) as Schema[]) this.check(sub, base, value, path, errors);
    for (const [keyword, exact] of [["anyOf", false], ["oneOf", true]] as const) {
      const options = s[keyword] as Schema[] | undefined;
      if (options === undefined) continue;
      const results = options.map((sub) => {
        const e: string[] = [];
        this.check(sub, base, value, path, e);
        return e;
      });
      const passing = results.filter((e) => e.length === 0).length;
      if (passing === 0 || (exact && passing > 1)) {
        const why = passing === 0 ? results.map((e, i) => `  [${i}] ${e.slice(0, 3).join("; ")}`).join("\n") : `${passing} match`;
        errors.push(`${path}: ${keyword} failed:\n${why}`);
      }
    }
  }
}

function isObject(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === "object" && !Array.isArray(value);
}

function hasType(value: unknown, type: string): boolean {
  switch (type) {
    case "null":
      return value === null;
    case "object":
      return isObject(value);
    case "array":
      return Array.isArray(value);
    case "integer":
      return Number.isInteger(value);
    case "number":
      return typeof value === "number" && Number.isFinite(value);
    case "string":
    case "boolean":
      return typeof value === type;
    default:
      throw new Error(`unknown type in schema: ${type}`);
  }
}

function describe(value: unknown): string {
  if (value === null) return "null";
  if (Array.isArray(value)) return "array";
  return typeof value;
}
