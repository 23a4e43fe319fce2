/**
 * The policy document's JSON Schema (draft 2020-12), published in docs/policies.md and by the API. It says
 * the same as `validatePolicy` (which also checks CIDR syntax, which a schema cannot express); a test keeps
 * the two in agreement on valid and invalid documents.
 */
const positive = (description: string): Record<string, unknown> => ({ type: "number", exclusiveMinimum: 0, description });

export const POLICY_SCHEMA = {
  $schema: "https://json-schema.org/draft/2020-12/schema",
  $id: "https://tau.dev/schemas/policy.json",
  title: "Tau tenant policy",
  type: "object",
  additionalProperties: false,
  required: ["connectors", "egress", "secrets", "duckdbAnyPath", "limits"],
  properties: {
    connectors: { type: "array", items: { type: "string" }, description: 'Connector kinds a pipeline may open ("*": all).' },
    egress: {
      type: "array",
      description: "Destinations network connectors may reach, checked on the host after DNS resolution; empty: none.",
      items: {
        type: "object",
        additionalProperties: false,
        anyOf: [{ required: ["host"] }, { required: ["cidr"] }],
        properties: {
          host: { type: "string", description: "An exact host name, a `*.suffix` wildcard, or `*`." },
          cidr: { type: "string", description: "An address or address/prefix the resolved addresses must fall in, e.g. 10.0.0.0/8." },
          ports: { type: "array", items: { type: "integer", minimum: 1, maximum: 65535 }, description: "Allowed ports; absent: any." },
        },
      },
    },
    secrets: { type: "array", items: { type: "string" }, description: 'Secret names ctx.secret may read ("*": all).' },
    duckdbAnyPath: { type: "boolean", description: "May duckdb_local open files outside the tenant's data folder?" },
    limits: {
      type: "object",
      additionalProperties: false,
      required: [
        "memoryMb",
        "wallSec",
        "maxWallSec",
        "cpuSec",
        "logLineBytes",
        "logBytesPerRun",
        "resultBytes",
        "bridgeBytes",
        "jsonDepth",
        "extractRows",
        "concurrentRuns",
      ],
      properties: {
        memoryMb: positive("Isolate heap limit, MiB."),
        wallSec: positive("Wall-clock deadline of a run whose pipeline sets no timeoutSec."),
        maxWallSec: positive("Upper bound on a pipeline's own timeoutSec."),
        cpuSec: positive("CPU time a run's isolate may use."),
        logLineBytes: positive("Longer log lines are truncated."),
        logBytesPerRun: positive("Log bytes a run may write; later lines are dropped with one notice."),
        resultBytes: positive("Size of a run's JSON result."),
        bridgeBytes: positive("Size of one guest↔host call's JSON payload."),
        jsonDepth: positive("Nesting depth of JSON crossing the bridge."),
        extractRows: positive("Rows one extract may return into the isolate."),
        concurrentRuns: { type: "integer", minimum: 1, description: "Runs of the tenant executing at once; more wait in the queue." },
      },
    },
  },
} as const;
