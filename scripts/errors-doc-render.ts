import { ERRORS, type ErrorCode } from "../server/contract/errors";

const AREAS: { title: string; match: (code: string) => boolean }[] = [
  { title: "Deploying", match: (c) => c.startsWith("TAU_E_DEPLOY_") },
  { title: "Runs", match: (c) => c.startsWith("TAU_E_RUN_") || ["TAU_E_NO_RUNS", "TAU_E_PIPELINE_ERROR", "TAU_E_PIPELINE_RESULT_INVALID", "TAU_E_SANDBOX_CRASHED", "TAU_E_STEP_INVALID"].includes(c) },
  { title: "Sandbox bridge, secrets and policy", match: (c) => c.startsWith("TAU_E_BRIDGE_") || c.startsWith("TAU_E_SECRET_") || c.startsWith("TAU_E_POLICY_") },
  { title: "Connectors", match: (c) => c.startsWith("TAU_E_CONNECTOR_") },
  { title: "CLI", match: (c) => ["TAU_E_CLI_USAGE", "TAU_E_DAEMON_UNREACHABLE", "TAU_E_DAEMON_RESPONSE_INVALID", "TAU_E_FILE_NOT_FOUND", "TAU_E_INIT_TARGET_EXISTS"].includes(c) || c.startsWith("TAU_E_CLI_") },
  { title: "API and general", match: () => true },
];

/** The markdown of docs/errors.md, derived from the registry. */
export function renderErrorsDoc(): string {
  const placed = new Set<string>();
  const out: string[] = [
    "# Error codes",
    "",
    "Every failure Tau reports — API response, CLI output, a failed run's `error` — carries one of these codes",
    "in `{\"error\": {code, message, hint, details}}`. Codes are stable: they are never renamed or reused.",
    "`retryable` says whether the same action may succeed without a change. The HTTP status applies to API",
    "answers; codes that describe how a run ended (status 200) appear in the run's `error` field.",
    "",
    "This page is generated from `server/contract/errors.ts` by `npx tsx scripts/errors-doc.ts`; a test keeps",
    "the two equal.",
    "",
  ];
  for (const area of AREAS) {
    const codes = (Object.keys(ERRORS) as ErrorCode[]).filter((c) => !placed.has(c) && area.match(c)).sort();
    if (codes.length === 0) continue;
    out.push(`## ${area.title}`, "");
    for (const code of codes) {
      placed.add(code);
      const e = ERRORS[code];
      out.push(`### ${code}`, "", `${e.message}`, "", `- HTTP status: ${e.status}`, `- retryable: ${e.retryable}`, `- what to do: ${e.hint}`, "");
    }
  }
  return out.join("\n");
}
