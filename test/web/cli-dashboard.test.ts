/**
 * `tau dashboard` (the built CLI against a real taud): prints {url, opened}; opens the URL with xdg-open
 * only when there is a display, and says opened: false when there is none or the opener fails.
 */
import { chmodSync, existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { schemas } from "../cli/helpers/tau-cli";
import { builtOrThrow, cleanup, startDaemon, tau, tempHome, type Daemon } from "../e2e/harness";
import { deploy, pipelineFile } from "./helpers";

let daemon: Daemon;
let bin: string;

beforeAll(async () => {
  builtOrThrow();
  bin = tempHome("tau-web-bin-");
  daemon = await startDaemon();
  await deploy(daemon.url, "webcli_p.ts", pipelineFile("webcli_p", "", "  return 1;"));
});
afterAll(async () => {
  await daemon?.stop();
  if (daemon) cleanup(daemon.home);
  if (bin) cleanup(bin);
});

/** An `xdg-open` on PATH that records its argument and exits with `code`. */
function fakeOpener(code: number): { env: NodeJS.ProcessEnv; opened: () => string | null } {
  const record = join(bin, `opened-${code}.txt`);
  const script = join(bin, "xdg-open");
  writeFileSync(script, `#!/bin/sh\nprintf '%s' "$1" > '${record}'\nexit ${code}\n`);
  chmodSync(script, 0o755);
  return {
    env: { PATH: `${bin}:${process.env.PATH}`, DISPLAY: ":99", WAYLAND_DISPLAY: "" },
    opened: () => (existsSync(record) ? readFileSync(record, "utf8") : null),
  };
}

const valid = (json: unknown): void => expect(schemas.validate("dashboard.schema.json", json)).toEqual([]);

describe("tau dashboard", () => {
  it("prints the URL with opened: false when there is no display", async () => {
    const r = await tau(daemon, ["dashboard"], { DISPLAY: "", WAYLAND_DISPLAY: "" });
    expect(r.code).toBe(0);
    expect(r.json).toEqual({ url: `${daemon.url}/`, opened: false });
    valid(r.json);
    expect(r.stderr).toContain("No display");
  });

  it("opens a pipeline's page with xdg-open when a display exists", async () => {
    const opener = fakeOpener(0);
    const r = await tau(daemon, ["dashboard", "--pipeline", "webcli_p"], opener.env);
    expect(r.code).toBe(0);
    expect(r.json).toEqual({ url: `${daemon.url}/#/pipelines/webcli_p`, opened: true });
    valid(r.json);
    expect(opener.opened()).toBe(`${daemon.url}/#/pipelines/webcli_p`);
  });

  it("reports opened: false when the opener fails, and does not open with --no-open", async () => {
    const failing = fakeOpener(3);
    const r = await tau(daemon, ["dashboard"], failing.env);
    expect(r.code).toBe(0);
    expect(r.json.opened).toBe(false);
    expect(failing.opened()).toBe(`${daemon.url}/`);
    const ok = fakeOpener(0);
    const quiet = await tau(daemon, ["dashboard", "--no-open"], ok.env);
    expect(quiet.json).toEqual({ url: `${daemon.url}/`, opened: false });
  });

  it("refuses an unknown pipeline or run, both at once, and an unreachable daemon", async () => {
    const unknown = await tau(daemon, ["dashboard", "--pipeline", "nope"], { DISPLAY: "" });
    expect(unknown.code).toBe(3);
    expect(unknown.json.error.code).toBe("TAU_E_PIPELINE_NOT_FOUND");
    const noRun = await tau(daemon, ["dashboard", "--run", "run_nope"], { DISPLAY: "" });
    expect(noRun.json.error.code).toBe("TAU_E_RUN_NOT_FOUND");
    const both = await tau(daemon, ["dashboard", "--pipeline", "webcli_p", "--run", "r"], { DISPLAY: "" });
    expect(both.code).toBe(2);
    expect(both.json.error.code).toBe("TAU_E_CLI_USAGE");
    const down = await tau(null, ["dashboard"], { DISPLAY: "" });
    expect(down.code).toBe(4);
    expect(down.json.error.code).toBe("TAU_E_DAEMON_UNREACHABLE");
  });
});
