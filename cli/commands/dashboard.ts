import { spawn } from "node:child_process";
import { Command, Option } from "clipanion";
import { TauError } from "../../server/contract";
import { DaemonError, usageError } from "../exit-codes";
import { TauCommand, type Outcome } from "./base";

/** How long an opener (xdg-open, open) may take to report failure before it is taken to have worked. */
const OPENER_WAIT_MS = 3_000;

export interface Opener {
  command: string;
  args: string[];
}

/**
 * The command that opens a URL in the user's browser here, or null when there is no display to open it
 * on (a server, a container, an agent's sandbox): macOS `open`, Windows `start`, elsewhere `xdg-open`
 * when DISPLAY or WAYLAND_DISPLAY is set.
 */
export function openerFor(platform: NodeJS.Platform, env: Record<string, string | undefined>, url: string): Opener | null {
  if (platform === "darwin") return { command: "open", args: [url] };
  if (platform === "win32") return { command: "cmd", args: ["/c", "start", '""', url] };
  if (env.DISPLAY || env.WAYLAND_DISPLAY) return { command: "xdg-open", args: [url] };
  return null;
}

/** Runs the opener detached; true when it started and did not fail within OPENER_WAIT_MS. */
function runOpener(opener: Opener, env: Record<string, string | undefined>): Promise<boolean> {
  return new Promise((resolve) => {
    let settled = false;
    const done = (ok: boolean): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      child.unref();
      resolve(ok);
    };
    const child = spawn(opener.command, opener.args, { stdio: "ignore", detached: true, env: env as NodeJS.ProcessEnv });
    child.once("error", () => done(false));
    child.once("exit", (code) => done(code === 0));
    // Some openers stay until the browser exits: still running after the wait means it is showing the page.
    const timer = setTimeout(() => done(true), OPENER_WAIT_MS);
  });
}

export class DashboardCommand extends TauCommand {
  static override paths = [["dashboard"]];
  static override usage = Command.Usage({
    description: "Open the web dashboard in the browser, or print its URL when there is no display.",
    details: `
      Checks that the daemon answers and serves the dashboard, then opens the URL with xdg-open (when
      DISPLAY or WAYLAND_DISPLAY is set), open (macOS) or start (Windows). Always prints {url, opened}:
      opened is false when there was no display, with --no-open, or when the opener failed.
    `,
    examples: [
      ["Open the dashboard", "$0 dashboard"],
      ["A pipeline's page, URL only", "$0 dashboard --pipeline orders_sync --no-open"],
      ["A run's page", "$0 dashboard --run 01J…"],
    ],
  });

  pipeline = Option.String("--pipeline", { description: "Open this pipeline's page" });
  runId = Option.String("--run", { description: "Open this run's page" });
  open = Option.Boolean("--open", true, { description: "Open a browser (--no-open: only print the URL)" });

  protected async run(): Promise<Outcome> {
    if (this.pipeline !== undefined && this.runId !== undefined) {
      throw usageError("tau dashboard: give --pipeline or --run, not both.", { pipeline: this.pipeline, run: this.runId });
    }
    const client = this.client();
    // Fails with TAU_E_DAEMON_UNREACHABLE (and its hint) before printing a URL that would not load.
    await client.version();
    let hash = "";
    if (this.pipeline !== undefined) {
      await client.getPipeline(this.pipeline);
      hash = `#/pipelines/${encodeURIComponent(this.pipeline)}`;
    } else if (this.runId !== undefined) {
      await client.getRun(this.runId);
      hash = `#/runs/${encodeURIComponent(this.runId)}`;
    }
    await assertDashboardServed(client.host);
    const url = `${client.host}/${hash}`;
    const opener = this.open ? openerFor(process.platform, this.context.env, url) : null;
    const opened = opener === null ? false : await runOpener(opener, this.context.env);
    if (!opened && this.open) this.hint(opener === null ? "No display found: open the URL in a browser." : `${opener.command} failed: open the URL in a browser.`);
    return { output: { url, opened } };
  }
}

/** A daemon built without the dashboard answers `/` with TAU_E_DASHBOARD_NOT_BUILT: say so instead of printing a dead URL. */
async function assertDashboardServed(host: string): Promise<void> {
  let response: Response;
  try {
    response = await fetch(`${host}/`, { headers: { accept: "text/html" } });
  } catch {
    return; // /api/version answered a moment ago; a blip here is not worth failing over
  }
  if (response.ok) {
    await response.body?.cancel();
    return;
  }
  const text = await response.text();
  let error: unknown;
  try {
    error = (JSON.parse(text) as { error?: unknown }).error;
  } catch {
    error = undefined;
  }
  if (error && typeof error === "object" && typeof (error as { code?: unknown }).code === "string") {
    throw new DaemonError(response.status, TauError.fromBody(error));
  }
}
