import { Command } from "clipanion";
import { API_VERSION, type ErrorBody, type VersionView } from "../../server/contract";
import { toTauError } from "../exit-codes";
import { findTauPackage } from "../package-root";
import { TauCommand, type Outcome } from "./base";

/** `tau version`: never fails only because the daemon is down — `daemon` is then null and `daemonError` says why. */
export interface VersionOutput {
  cli: { name: "tau"; version: string; apiVersion: string; node: string };
  host: string;
  daemon: VersionView | null;
  daemonError: ErrorBody | null;
  /** Whether CLI and daemon speak the same API version; null when the daemon did not answer. */
  compatible: boolean | null;
}

export class VersionCommand extends TauCommand {
  static override paths = [["version"], ["--version"]];
  static override usage = Command.Usage({
    description: "Show the CLI's version and, when reachable, the daemon's.",
    details: "Exits 0 even when the daemon is down: then `daemon` is null and `daemonError` holds the reason.",
    examples: [["Versions", "$0 version"]],
  });

  protected async run(): Promise<Outcome> {
    const client = this.client();
    const cli = { name: "tau" as const, version: findTauPackage().version, apiVersion: API_VERSION, node: process.version };
    let daemon: VersionView | null = null;
    let daemonError: ErrorBody | null = null;
    try {
      daemon = await client.version();
    } catch (err) {
      daemonError = toTauError(err).toBody();
    }
    const output: VersionOutput = {
      cli,
      host: client.host,
      daemon,
      daemonError,
      compatible: daemon === null ? null : daemon.apiVersion === API_VERSION,
    };
    return { output };
  }
}
