/**
 * Where a guest error happened in the file the agent wrote (sandbox/source-map.ts does the mapping), and the
 * guest stack rewritten the same way so that `details.stack` reads in the original file's positions.
 */
import type { SourceMap } from "node:module";
import { BUNDLE_FILENAME, locateGuestError, mapBundlePosition, parseSourceMap } from "../source-map";

export interface GuestLocation {
  line: number | null;
  column: number | null;
  /** The guest stack with bundle positions mapped to `filename:line:column`; at most `maxFrames` frames. */
  stack: string;
}

const BUNDLE_FRAME = new RegExp(`${BUNDLE_FILENAME.replace(".", "\\.")}:(\\d{1,9}):(\\d{1,9})`, "g");

export class BundleLocator {
  private map: SourceMap | null | undefined;

  constructor(
    private readonly sourceMap: string,
    private readonly filename: string,
  ) {}

  locate(stack: string, maxFrames = 20): GuestLocation {
    const map = this.load();
    const position = map ? locateGuestError(stack, map) : null;
    const out: string[] = [];
    let frames = 0;
    for (const line of stack.split("\n")) {
      const isFrame = /^\s*at\s/.test(line);
      if (isFrame && ++frames > maxFrames) continue;
      out.push(
        map
          ? line.replace(BUNDLE_FRAME, (whole, l: string, c: string) => {
              const pos = mapBundlePosition(map, Number(l), Number(c));
              return pos ? `${this.filename}:${pos.line}:${pos.column}` : whole;
            })
          : line,
      );
    }
    if (frames > maxFrames) out.push(`    … ${frames - maxFrames} more frames`);
    return { line: position?.line ?? null, column: position?.column ?? null, stack: out.join("\n") };
  }

  private load(): SourceMap | null {
    if (this.map === undefined) this.map = this.sourceMap ? parseSourceMap(this.sourceMap) : null;
    return this.map;
  }
}
