/**
 * The columnar row transport (runtime/sdk/row-batch.ts → sandbox/executor/row-batch.ts): what the guest
 * encodes decodes to exactly the rows the row transport (JSON of row objects) would have given, and the
 * host refuses every malformed or lying batch with a TAU_E_ code, without crashing or building anything deep.
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { ColumnInference, inferColumns } from "../../runtime/connectors";
import { encodeRowBatch } from "../../runtime/sdk/row-batch";
import { decodeRowBatch } from "../../sandbox/executor/row-batch";

const LIMITS = { maxBytes: 64 * 1024 * 1024, maxDepth: 64 };
const OPTIONS = { table: "t", mode: "append" };

/** What the row transport delivers: JSON.stringify (BigInts as text) then JSON.parse. */
function viaRowTransport(rows: unknown[]): Record<string, unknown>[] {
  return JSON.parse(JSON.stringify(rows, (_k, v: unknown) => (typeof v === "bigint" ? String(v) : v))) as Record<string, unknown>[];
}

/** The same rows with every field of any row present in each (null where a row lacked it), in first-seen order. */
function filled(rows: Record<string, unknown>[]): Record<string, unknown>[] {
  const names: string[] = [];
  for (const row of rows) for (const k of Object.keys(row)) if (!names.includes(k)) names.push(k);
  return rows.map((row) => Object.fromEntries(names.map((k) => [k, Object.prototype.hasOwnProperty.call(row, k) ? row[k] : null])));
}

function roundTrip(rows: unknown[]): { rows: Record<string, unknown>[]; names: readonly string[] } {
  const text = encodeRowBatch("h1", OPTIONS, rows);
  if (text === null) throw new Error("the rows were not encoded as columns");
  const decoded = decodeRowBatch(text, LIMITS);
  expect(decoded.handle).toBe("h1");
  expect(decoded.options).toEqual(OPTIONS);
  return { rows: decoded.batch.rows(), names: decoded.batch.names };
}

function refusal(text: unknown, limits = LIMITS): { code: string; message: string } {
  try {
    decodeRowBatch(text, limits);
  } catch (err) {
    return err as { code: string; message: string };
  }
  throw new Error("expected the batch to be refused");
}

/** A well-formed payload built by hand, so a test can lie in exactly one place. */
function payload(rows: number, columns: Array<[string, string, string]>, header: Record<string, unknown> = {}): string {
  const specs = columns.map(([name, kind, text]) => [name, kind, text.length]);
  return JSON.stringify({ handle: "h1", options: OPTIONS, rows, columns: specs, ...header }) + "\n" + columns.map((c) => c[2]).join("");
}

describe("the columnar row transport round trip", () => {
  it("gives back every value kind as the row transport would: numbers, text, booleans, nulls, dates, bigints, nested JSON", () => {
    const rows = [
      { i: 1, d: 1.5, big: 2n ** 63n - 1n, s: "a", b: true, n: null, when: new Date("2024-01-02T03:04:05.678Z"), nested: { a: [1, { b: "x" }] }, list: [1, "2", null] },
      { i: -0, d: 1e300, big: -5n, s: "", b: false, n: null, when: new Date(Number.NaN), nested: [], list: { k: null } },
      { i: Number.MAX_SAFE_INTEGER, d: -2.5e-300, big: 0n, s: "😀 \u2028 \" \\ \n é", b: true, n: null, when: null, nested: null, list: "text" },
      { i: Number.NaN, d: Number.POSITIVE_INFINITY, big: null, s: "\ud800 lone", b: null, n: null, when: new Date(0), nested: { deep: { er: { est: 1 } } }, list: true },
    ];
    const { rows: back } = roundTrip(rows);
    expect(back).toEqual(viaRowTransport(rows));
    expect(back[0].big).toBe("9223372036854775807");
    expect(back[0].when).toBe("2024-01-02T03:04:05.678Z");
    expect(back[1].when).toBeNull();
    expect(back[3].i).toBeNull();
    expect(Object.is(back[1].i, 0)).toBe(true);
  });

  it("fills missing fields with null, keeps the first-seen column order, and drops fields that have no JSON form", () => {
    const rows = [{ a: 1 }, { b: "x", a: 2 }, { c: undefined, d: () => 1, a: 3 }, {}, { e: Symbol("s"), b: "y" }];
    const { rows: back, names } = roundTrip(rows);
    expect(names).toEqual(["a", "b"]);
    expect(back).toEqual(filled(viaRowTransport(rows)));
  });

  it("keeps a '__proto__' field an own field, as JSON.parse does", () => {
    const rows = [JSON.parse('{"__proto__": 5, "x": 1}') as Record<string, unknown>];
    const { rows: back } = roundTrip(rows);
    expect(Object.keys(back[0])).toEqual(["__proto__", "x"]);
    expect(Object.getPrototypeOf(back[0])).toBe(Object.prototype);
    expect(back[0].__proto__).toBe(5);
  });

  it("calls toJSON on field values and uses what it returns, as JSON.stringify does", () => {
    const money = { toJSON: () => "12.50" };
    const hidden = { toJSON: () => undefined };
    const rows = [{ a: money, b: hidden, c: 1 }];
    const { rows: back } = roundTrip(rows);
    expect(back).toEqual([{ a: "12.50", c: 1 }]);
  });

  it("sends numeric columns without nulls as doubles, and the rest as JSON arrays", () => {
    const text = encodeRowBatch("h1", OPTIONS, [
      { id: 1, amount: 0.1, maybe: 1, name: "a", ok: true, mixed: 1 },
      { id: 2, amount: -0, maybe: null, name: "b", ok: false, mixed: "x" },
    ])!;
    const header = JSON.parse(text.slice(0, text.indexOf("\n"))) as { columns: [string, string, number][] };
    expect(header.columns.map(([name, kind]) => `${name}:${kind}`)).toEqual(["id:f", "amount:f", "maybe:n", "name:s", "ok:b", "mixed:j"]);
    const batch = decodeRowBatch(text, LIMITS).batch;
    expect(batch.column("amount")).toBeInstanceOf(Float64Array);
    expect(Object.is(batch.rows()[1].amount, 0)).toBe(true);
  });

  it("sends an empty load and rows without fields", () => {
    expect(roundTrip([]).rows).toEqual([]);
    const empty = roundTrip([{}, {}]);
    expect(empty.rows).toEqual([{}, {}]);
    expect(empty.names).toEqual([]);
  });

  it("leaves rows the format does not fit to the row transport", () => {
    expect(encodeRowBatch("h1", OPTIONS, [{ a: 1 }, [1, 2]])).toBeNull();
    expect(encodeRowBatch("h1", OPTIONS, [{ a: 1 }, null])).toBeNull();
    expect(encodeRowBatch("h1", OPTIONS, [{ a: 1 }, "row"])).toBeNull();
    expect(encodeRowBatch("h1", OPTIONS, [{ a: 1, toJSON: () => ({ b: 2 }) }])).toBeNull();
    expect(encodeRowBatch("h1", OPTIONS, [new Date(0)])).toBeNull();
    // An integer-like field after others: rebuilt row objects would list it first.
    expect(encodeRowBatch("h1", OPTIONS, [{ a: 1 }, { a: 2, "7": 3 }])).toBeNull();
    expect(encodeRowBatch("h1", OPTIONS, [{ "7": 3, a: 1 }, { a: 2 }])).not.toBeNull();
    // Every row with its own fields: the columns would be mostly nulls.
    const sparse = Array.from({ length: 2000 }, (_, i) => ({ [`field_${i}`]: i }));
    expect(encodeRowBatch("h1", OPTIONS, sparse)).toBeNull();
  });

  it("throws what JSON.stringify would throw for a cycle (the caller then sends the rows as objects for the usual error)", () => {
    const cyclic: Record<string, unknown> = { a: 1 };
    cyclic.self = cyclic;
    expect(() => encodeRowBatch("h1", OPTIONS, [{ x: cyclic }])).toThrow(TypeError);
  });

  it("round-trips any array of JSON-like rows exactly as the row transport would (property test)", () => {
    const key = fc.constantFrom("id", "name", "amount", "day", "tags", "__proto__", "é", "", "7", "10");
    const value = fc.oneof(
      fc.integer(),
      fc.double(),
      fc.string(),
      fc.boolean(),
      fc.constant(null),
      fc.constant(undefined),
      fc.bigInt({ min: -(2n ** 70n), max: 2n ** 70n }),
      fc.date({ noInvalidDate: false }),
      fc.jsonValue({ maxDepth: 3 }),
    );
    const row = fc.dictionary(key, value, { maxKeys: 6 });
    fc.assert(
      fc.property(fc.array(row, { maxLength: 30 }), (rows) => {
        const text = encodeRowBatch("h1", OPTIONS, rows);
        if (text === null) return; // sparse rows, or integer-like fields out of order, go by the row transport
        const batch = decodeRowBatch(text, LIMITS).batch;
        const back = batch.rows();
        const sent = viaRowTransport(rows);
        expect(back).toEqual(filled(sent));
        // The same columns with the same inferred types in the same order (the columns of a table load
        // creates), read from the columns, from the rebuilt rows, and from the row transport's rows.
        const expected = inferColumns(sent);
        expect(new ColumnInference().observe(batch).columns()).toEqual(expected);
        expect(inferColumns(back)).toEqual(expected);
      }),
      { numRuns: 300 },
    );
  });
});

describe("the host's decoder refuses hostile batches", () => {
  it("refuses payloads that are not strings", () => {
    for (const bad of [undefined, null, 42, {}, ["a"], new Uint8Array(4)]) {
      expect(refusal(bad).code).toBe("TAU_E_BRIDGE_PAYLOAD_INVALID");
    }
  });

  it("refuses a missing, malformed or deep header", () => {
    expect(refusal("[1,2,3]").code).toBe("TAU_E_BRIDGE_PAYLOAD_INVALID");
    expect(refusal("{not json\n[]").code).toBe("TAU_E_BRIDGE_PAYLOAD_INVALID");
    expect(refusal('["an array"]\n').code).toBe("TAU_E_BRIDGE_PAYLOAD_INVALID");
    expect(refusal("[".repeat(100_000) + "]".repeat(100_000) + "\n").message).toMatch(/deeper than 64/);
    expect(refusal(JSON.stringify({ rows: -1, columns: [] }) + "\n").message).toMatch(/row count/);
    expect(refusal(JSON.stringify({ rows: 1.5, columns: [] }) + "\n").message).toMatch(/row count/);
    expect(refusal(JSON.stringify({ rows: 1 }) + "\n").message).toMatch(/column list/);
    expect(refusal(JSON.stringify({ rows: 1, columns: [["a", "n"]] }) + "\n[1]").message).toMatch(/\[name, kind, length\]/);
    expect(refusal(JSON.stringify({ rows: 1, columns: [[1, "n", 3]] }) + "\n[1]").message).toMatch(/name is not a string/);
    expect(refusal(JSON.stringify({ rows: 1, columns: [["a", "x", 3]] }) + "\n[1]").message).toMatch(/unknown kind/);
    expect(refusal(JSON.stringify({ rows: 1, columns: [["a", "n", -3]] }) + "\n[1]").message).toMatch(/invalid length/);
  });

  it("refuses column lengths that do not add up to the text, or that cut a column in the wrong place", () => {
    expect(refusal(payload(1, [["a", "n", "[1]"]]) + " ").message).toMatch(/add up/);
    const lying = JSON.stringify({ handle: "h1", options: OPTIONS, rows: 1, columns: [["a", "n", 2], ["b", "n", 4]] }) + "\n[1][22]";
    expect(refusal(lying).code).toBe("TAU_E_BRIDGE_PAYLOAD_INVALID");
  });

  it("refuses a column whose value count differs from the row count (both ways)", () => {
    expect(refusal(payload(3, [["a", "n", "[1,2]"]])).message).toMatch(/has 2 values; the header says 3 rows/);
    expect(refusal(payload(1, [["a", "n", "[1,2]"]])).message).toMatch(/has 2 values; the header says 1 rows/);
    expect(refusal(payload(2, [["a", "n", "[1,2]"], ["b", "s", '["x"]']])).message).toMatch(/'b' has 1 values/);
  });

  it("refuses columns whose values lie about their kind", () => {
    expect(refusal(payload(2, [["a", "n", '[1,"x"]']])).message).toMatch(/only numbers/);
    expect(refusal(payload(2, [["a", "n", "[1,true]"]])).message).toMatch(/only numbers/);
    expect(refusal(payload(1, [["a", "n", "[[1]]"]])).message).toMatch(/only numbers/);
    expect(refusal(payload(1, [["a", "n", '[{"x":1}]']])).message).toMatch(/only numbers/);
    expect(refusal(payload(2, [["a", "s", '["x",1]']])).message).toMatch(/only strings/);
    expect(refusal(payload(1, [["a", "s", '[["x"]]']])).message).toMatch(/only strings/);
    expect(refusal(payload(2, [["a", "b", "[true,0]"]])).message).toMatch(/only booleans/);
    expect(refusal(payload(1, [["a", "n", "{}"]])).message).toMatch(/not a JSON array/);
    expect(refusal(payload(1, [["a", "n", "[1,]"]])).message).toMatch(/not valid JSON/);
  });

  it("refuses a number column that is a huge nest of arrays before parsing it", () => {
    const deep = "[".repeat(1_000_000) + "]".repeat(1_000_000);
    expect(refusal(payload(1, [["a", "n", deep]])).message).toMatch(/only numbers/);
    expect(refusal(payload(1, [["a", "s", deep]])).message).toMatch(/only strings/);
  });

  it("accepts nested JSON values up to the depth the row transport accepts, and refuses deeper ones", () => {
    const nest = (d: number): string => "[".repeat(d) + "]".repeat(d);
    // Inside the row transport's payload a field's value sits three levels down: 64 - 3 levels for the column.
    expect(decodeRowBatch(payload(1, [["a", "j", `[${nest(60)}]`]]), LIMITS).batch.rows()).toHaveLength(1);
    const refused = refusal(payload(1, [["a", "j", `[${nest(61)}]`]]));
    expect(refused.code).toBe("TAU_E_BRIDGE_PAYLOAD_INVALID");
    expect(refused.message).toMatch(/nests deeper than 61 levels/);
  });

  it("refuses a doubles column of the wrong length, or holding NaN or Infinity, and reads -0 as 0", () => {
    const bytes = (values: number[]): string => Buffer.from(new Float64Array(values).buffer).toString("latin1");
    expect(refusal(payload(2, [["a", "f", bytes([1])]])).message).toMatch(/8 characters for 2 doubles/);
    expect(refusal(payload(1, [["a", "f", bytes([1]) + "x"]])).code).toBe("TAU_E_BRIDGE_PAYLOAD_INVALID");
    expect(refusal(payload(2, [["a", "f", bytes([1, Number.NaN])]])).message).toMatch(/not a finite number at row 1/);
    expect(refusal(payload(1, [["a", "f", bytes([Number.NEGATIVE_INFINITY])]])).message).toMatch(/not a finite number/);
    const zero = decodeRowBatch(payload(2, [["a", "f", bytes([-0, 2.5])]]), LIMITS).batch.rows();
    expect(Object.is(zero[0].a, 0)).toBe(true);
    expect(zero[1].a).toBe(2.5);
  });

  it("refuses duplicate column names", () => {
    expect(refusal(payload(1, [["a", "n", "[1]"], ["a", "n", "[2]"]])).message).toMatch(/listed twice/);
  });

  it("refuses a batch larger than the bridge's byte limit, huge strings included", () => {
    const huge = JSON.stringify(["x".repeat(200_000)]);
    const refused = refusal(payload(1, [["a", "s", huge]]), { maxBytes: 100_000, maxDepth: 64 });
    expect(refused.code).toBe("TAU_E_BRIDGE_PAYLOAD_TOO_LARGE");
    // Multi-byte characters count as their UTF-8 bytes.
    const wide = JSON.stringify(["é".repeat(60_000)]);
    expect(refusal(payload(1, [["a", "s", wide]]), { maxBytes: 100_000, maxDepth: 64 }).code).toBe("TAU_E_BRIDGE_PAYLOAD_TOO_LARGE");
  });
});
