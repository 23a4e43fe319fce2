/**
 * One daemon per home: `<home>/taud.pid` holds the owner's pid. A second taud on the same home would fail
 * the first one's runs as interrupted at start, so it is refused (TAU_E_DAEMON_HOME_LOCKED). A file left by
 * a daemon that died is taken over.
 */
import { readFileSync, unlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { TauError } from "./contract";

export class HomeLock {
  private constructor(private readonly file: string) {}

  static acquire(home: string): HomeLock {
    const file = join(home, "taud.pid");
    for (let attempt = 0; attempt < 2; attempt++) {
      try {
        writeFileSync(file, `${process.pid}\n`, { flag: "wx" });
        return new HomeLock(file);
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== "EEXIST") {
          throw new TauError("TAU_E_STORE_FAILED", `Cannot write ${file}: ${(err as Error).message}`, { home, file });
        }
      }
      const owner = readPid(file);
      if (owner !== null && owner !== process.pid && isAlive(owner)) {
        throw new TauError("TAU_E_DAEMON_HOME_LOCKED", `taud (pid ${owner}) is already using ${home}.`, { home, pid: owner });
      }
      // Stale: its daemon is gone (or it is our own pid from an earlier, unreleased lock).
      try {
        unlinkSync(file);
      } catch {
        // Someone else removed it first; the next attempt decides.
      }
    }
    throw new TauError("TAU_E_DAEMON_HOME_LOCKED", `Another taud is starting on ${home}.`, { home, pid: readPid(file) });
  }

  release(): void {
    if (readPid(this.file) !== process.pid) return;
    try {
      unlinkSync(this.file);
    } catch {
      // Already gone.
    }
  }
}

function readPid(file: string): number | null {
  try {
    const pid = Number.parseInt(readFileSync(file, "utf8").trim(), 10);
    return Number.isSafeInteger(pid) && pid > 0 ? pid : null;
  } catch {
    return null;
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    // EPERM: it exists but belongs to someone else.
    return (err as NodeJS.ErrnoException).code === "EPERM";
  }
}
