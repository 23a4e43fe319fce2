import { readFile } from "node:fs/promises";
import { resolve } from "node:path";
import { Command, Option } from "clipanion";
import { TauError, type DeployRequest } from "../../server/contract";
import { TauCommand, type Outcome } from "./base";

export class DeployCommand extends TauCommand {
  static override paths = [["deploy"]];
  static override usage = Command.Usage({
    description: "Deploy a pipeline file as a new version of its pipeline.",
    details: `
      Reads FILE, sends its source and absolute path to taud, which bundles and (unless --no-typecheck)
      type-checks it. Prints the DeployResponse: the pipeline, its version, the content hash, and whether
      anything changed (deploying identical source stores nothing).
    `,
    examples: [
      ["Deploy a file", "$0 deploy orders_sync.ts"],
      ["Deploy under another name with a schedule", "$0 deploy orders_sync.ts --name orders --schedule '0 6 * * *'"],
    ],
  });

  file = Option.String({ name: "FILE" });
  name = Option.String("--name", { description: "Pipeline name (overrides the name in the file's pipeline meta)" });
  schedule = Option.String("--schedule", { description: "Cron expression (overrides the schedule in the file)" });
  typecheck = Option.Boolean("--typecheck", true, { description: "Type-check the file (--no-typecheck skips it)" });
  replace = Option.Boolean("--replace", false, {
    description: "Let this file become the next version of a pipeline that another file deployed",
  });

  protected async run(): Promise<Outcome> {
    const filename = resolve(this.file);
    let source: string;
    try {
      source = await readFile(filename, "utf8");
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      const why = code === "EISDIR" ? "is a directory" : code === "EACCES" ? "is not readable" : "does not exist";
      throw new TauError("TAU_E_FILE_NOT_FOUND", `Pipeline file ${filename} ${why}.`, { path: filename, cause: code ?? null });
    }
    const request: DeployRequest = { source, filename, typecheck: this.typecheck, replace: this.replace };
    if (this.name !== undefined) request.name = this.name;
    if (this.schedule !== undefined) request.schedule = this.schedule;
    return { output: await this.client().deploy(request) };
  }
}
