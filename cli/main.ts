/**
 * The `tau` entry: parses argv with clipanion and runs the command. Clipanion's own parse errors (unknown
 * command, bad or missing flags) would print human text; they are caught here and printed as a
 * TAU_E_CLI_USAGE error document instead, exit 2. `--help` prints clipanion's human usage text.
 */
import type { Writable } from "node:stream";
import { Cli, Builtins } from "clipanion";
import type { TauError } from "../server/contract";
import { EXIT, usageError } from "./exit-codes";
import { errorDocument, writeDocument } from "./output";
import { CancelCommand } from "./commands/cancel";
import { CodeCommand } from "./commands/code";
import { DagCommand } from "./commands/dag";
import { DashboardCommand } from "./commands/dashboard";
import { DependsCommand } from "./commands/depends";
import { DeployCommand } from "./commands/deploy";
import { ErrorsCommand } from "./commands/errors";
import { InitCommand } from "./commands/init";
import { InspectCommand } from "./commands/inspect";
import { ListCommand } from "./commands/list";
import { LogsCommand } from "./commands/logs";
import { PolicyCommand } from "./commands/policy";
import { RollbackCommand } from "./commands/rollback";
import { RunCommand } from "./commands/run";
import { RunsCommand } from "./commands/runs";
import { ScheduleCommand } from "./commands/schedule";
import { SecretsCommand } from "./commands/secrets";
import { StatusCommand } from "./commands/status";
import { TenantsCommand } from "./commands/tenants";
import { TokensCommand } from "./commands/tokens";
import { VersionCommand } from "./commands/version";
import { WorkersCommand } from "./commands/workers";

export const COMMANDS = [
  CancelCommand,
  CodeCommand,
  DagCommand,
  DashboardCommand,
  DependsCommand,
  DeployCommand,
  ErrorsCommand,
  InitCommand,
  InspectCommand,
  ListCommand,
  LogsCommand,
  PolicyCommand,
  RollbackCommand,
  RunCommand,
  RunsCommand,
  ScheduleCommand,
  SecretsCommand,
  StatusCommand,
  TenantsCommand,
  TokensCommand,
  VersionCommand,
  WorkersCommand,
];

export interface MainIo {
  stdout: Writable;
  stderr: Writable;
  env: Record<string, string | undefined>;
}

/** Runs `tau` with argv (without node and script) and returns the exit code. */
export async function main(argv: string[], io: MainIo): Promise<number> {
  const cli = new Cli({ binaryLabel: "Tau", binaryName: "tau", enableColors: false });
  for (const command of COMMANDS) cli.register(command);
  cli.register(Builtins.HelpCommand);
  const context = { stdout: io.stdout, stderr: io.stderr, env: io.env, colorDepth: 1 };

  if (argv.length === 0) {
    writeDocument(io.stdout, errorDocument(usageError("No command given.", { argv, commands: commandNames() }).toBody()));
    return EXIT.usage;
  }
  let command;
  try {
    command = cli.process(argv, context);
  } catch (err) {
    writeDocument(io.stdout, errorDocument(parseError(cli, argv, err).toBody()));
    return EXIT.usage;
  }
  return cli.run(command, context);
}

function commandNames(): string[] {
  return COMMANDS.flatMap((c) => c.paths.map((p) => p.join(" "))).filter((p) => !p.startsWith("-")).sort();
}

/** Converts clipanion's parse errors (UnknownSyntaxError, AmbiguousSyntaxError, UsageError) to TAU_E_CLI_USAGE. */
function parseError(cli: Cli, argv: string[], err: unknown): TauError {
  const reason = err instanceof Error ? err.message : String(err);
  const known = COMMANDS.find((c) => c.paths.some((p) => p[0] === argv[0]));
  if (known === undefined) {
    return usageError(`Unknown command ${JSON.stringify(argv[0])}.`, { argv, commands: commandNames() });
  }
  const name = `tau ${known.paths[0].join(" ")}`;
  // "Command not found; did you mean …" for a known command means an option it does not accept.
  const firstLine = reason.split("\n")[0];
  const what = firstLine.startsWith("Command not found") ? "Unknown option or argument." : firstLine;
  return usageError(`${name}: ${what}`, { argv, usage: cli.usage(known).trim(), reason });
}
