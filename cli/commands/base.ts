import { Command } from "clipanion";
import { TauClient } from "../client";
import { resolveClientOptions } from "../config";
import { EXIT, exitCodeFor, toTauError } from "../exit-codes";
import { errorDocument, writeDocument, writeHint } from "../output";

/** What a command produced: the one JSON document for stdout, and its exit code (default 0). */
export interface Outcome {
  output: unknown;
  exitCode?: number;
}

/** Returned by a command that wrote stdout itself (only `logs --follow`, which streams NDJSON). */
export interface Streamed {
  streamed: true;
  exitCode: number;
}

/**
 * Every `tau` command: `run()` returns the document to print; anything it throws is printed as the Tau
 * error document with the exit code that its origin calls for. Nothing escapes to clipanion's own
 * (human, text) error printer.
 */
export abstract class TauCommand extends Command {
  protected abstract run(): Promise<Outcome | Streamed>;

  async execute(): Promise<number> {
    try {
      const outcome = await this.run();
      if ("streamed" in outcome) return outcome.exitCode;
      writeDocument(this.context.stdout, outcome.output);
      return outcome.exitCode ?? EXIT.ok;
    } catch (err) {
      const error = toTauError(err);
      writeDocument(this.context.stdout, errorDocument(error.toBody()));
      return exitCodeFor(error);
    }
  }

  protected client(): TauClient {
    return new TauClient(resolveClientOptions(this.context.env));
  }

  protected hint(text: string): void {
    writeHint(this.context.stderr, text);
  }
}
