import { cpSync, existsSync, mkdirSync, readdirSync, rmSync, statSync, writeFileSync } from "node:fs";
import { join, relative, resolve } from "node:path";
import { Command, Option } from "clipanion";
import { TauError } from "../../server/contract";
import { usageError } from "../exit-codes";
import { findTauPackage } from "../package-root";
import { TauCommand, type Outcome } from "./base";

/** Where the SDK declarations go inside DIR; Tau owns this folder and refreshes it on every init. */
const TYPES_DIR = ".tau/types";
const EXAMPLE_FILE = "hello.ts";

/** The SDK's public modules and the declaration file each one resolves to. */
const SDK_MODULES: ReadonlyArray<[specifier: string, file: string]> = [
  ["tau", "index.d.ts"],
  ["tau/connectors", "connectors.d.ts"],
  ["tau/materializations", "materializations.d.ts"],
];

export interface InitOutput {
  dir: string;
  /** Paths relative to dir, sorted: everything init wrote. */
  files: string[];
  /** Paths relative to dir that existed and were replaced (only with --force). */
  overwritten: string[];
  example: string;
  /** Module specifier → declaration file, as written to tsconfig.json's paths. */
  modules: Record<string, string>;
}

export class InitCommand extends TauCommand {
  static override paths = [["init"]];
  static override usage = Command.Usage({
    description: "Set up a folder so an editor and tsc type-check pipeline files against the Tau SDK.",
    details: `
      Writes DIR/tsconfig.json (with paths for \`tau\`, \`tau/connectors\` and \`tau/materializations\`), the SDK's declarations under
      DIR/${TYPES_DIR}/ (Tau's own folder, replaced on every init), and an example pipeline DIR/${EXAMPLE_FILE}.
      Refuses to overwrite tsconfig.json or the example without --force (TAU_E_INIT_TARGET_EXISTS).
    `,
    examples: [
      ["Current folder", "$0 init"],
      ["Another folder, overwriting", "$0 init pipelines --force"],
    ],
  });

  dir = Option.String({ name: "DIR", required: false });
  force = Option.Boolean("--force", false, { description: "Overwrite tsconfig.json and the example pipeline" });

  protected async run(): Promise<Outcome> {
    const dir = resolve(this.dir ?? ".");
    if (existsSync(dir) && !statSync(dir).isDirectory()) {
      throw usageError(`${dir} exists and is not a directory.`, { dir });
    }
    const sdkTypes = findSdkTypes();
    const modules: Record<string, string> = {};
    for (const [specifier, file] of SDK_MODULES) {
      if (existsSync(join(sdkTypes, file))) modules[specifier] = `./${TYPES_DIR}/${file}`;
    }

    const userFiles = ["tsconfig.json", EXAMPLE_FILE];
    const existing = userFiles.filter((f) => existsSync(join(dir, f)));
    if (existing.length > 0 && !this.force) {
      throw new TauError("TAU_E_INIT_TARGET_EXISTS", `${dir} already has ${existing.join(" and ")}.`, { dir, files: existing });
    }

    mkdirSync(dir, { recursive: true });
    const typesTarget = join(dir, TYPES_DIR);
    rmSync(typesTarget, { recursive: true, force: true });
    mkdirSync(typesTarget, { recursive: true });
    cpSync(sdkTypes, typesTarget, { recursive: true, filter: (src) => statSync(src).isDirectory() || src.endsWith(".d.ts") });
    writeFileSync(join(dir, "tsconfig.json"), `${JSON.stringify(tsconfig(modules), null, 2)}\n`);
    writeFileSync(join(dir, EXAMPLE_FILE), EXAMPLE_SOURCE);

    const files = [...listFiles(typesTarget).map((f) => relative(dir, f)), ...userFiles].sort();
    const output: InitOutput = { dir, files, overwritten: existing.sort(), example: EXAMPLE_FILE, modules };
    const tsconfigPath = join(dir, "tsconfig.json");
    const shown = relative(process.cwd(), tsconfigPath);
    this.hint(`type-check with: npx tsc -p ${shown.startsWith("..") ? tsconfigPath : shown}`);
    return { output };
  }
}

/** The SDK declarations built by `npm run build` into `<tau>/dist/sdk-types/`. */
function findSdkTypes(): string {
  const { root } = findTauPackage();
  const dir = join(root, "dist", "sdk-types");
  if (!existsSync(join(dir, "index.d.ts"))) {
    throw new TauError("TAU_E_INTERNAL", "This Tau installation has no SDK declarations (dist/sdk-types/index.d.ts).", {
      searched: dir,
      fix: "run `npm run build` in the Tau checkout",
    });
  }
  return dir;
}

function tsconfig(modules: Record<string, string>): unknown {
  return {
    compilerOptions: {
      target: "ES2022",
      // esnext.disposable: pipelines use `await using` for connectors and steps.
      lib: ["ES2023", "esnext.disposable"],
      module: "esnext",
      moduleResolution: "bundler",
      // No Node or DOM types: pipeline code runs in a sandbox that has neither.
      types: [],
      strict: true,
      noEmit: true,
      isolatedModules: true,
      skipLibCheck: true,
      paths: Object.fromEntries(Object.entries(modules).map(([specifier, file]) => [specifier, [file]])),
    },
    include: ["**/*.ts"],
    exclude: ["node_modules", ".tau"],
  };
}

function listFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    return entry.isDirectory() ? listFiles(path) : [path];
  });
}

const EXAMPLE_SOURCE = `import { pipeline } from "tau";

/**
 * An example pipeline. Deploy it with \`tau deploy ${EXAMPLE_FILE}\`, run it with \`tau run hello\`,
 * and read the run with \`tau inspect hello --last-run\`.
 */
export default pipeline(
  { name: "hello", description: "Says hello; a starting point for a real pipeline." },
  async (ctx) => {
    const greeting = await ctx.step("greet", async (step) => {
      const who = typeof ctx.params.who === "string" ? ctx.params.who : "world";
      step.rowsOut = 1;
      return \`hello, \${who}\`;
    });
    return { greeting };
  },
);
`;
