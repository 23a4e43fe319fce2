import { readdirSync, readFileSync } from "node:fs";
import { builtinModules } from "node:module";
import { dirname, join, relative, resolve, sep } from "node:path";
import ts from "typescript";
import { describe, expect, it } from "vitest";

const ROOT = join(__dirname, "..", "..");
const CLI = join(ROOT, "cli");
const CONTRACT = join(ROOT, "server", "contract");
/** npm packages the CLI may use. */
const PACKAGES = new Set(["clipanion", "typanion", "ws"]);

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const path = join(dir, e.name);
    if (e.isDirectory()) return sourceFiles(path);
    return /\.(ts|mts|cts|js|mjs|cjs)$/.test(e.name) ? [path] : [];
  });
}

/** Every module specifier in a file, from its syntax tree (text inside strings, like a template, is not code). */
function specifiers(source: string): string[] {
  const found: string[] = [];
  const visit = (node: ts.Node): void => {
    if ((ts.isImportDeclaration(node) || ts.isExportDeclaration(node)) && node.moduleSpecifier && ts.isStringLiteral(node.moduleSpecifier)) {
      found.push(node.moduleSpecifier.text);
    } else if (ts.isImportEqualsDeclaration(node) && ts.isExternalModuleReference(node.moduleReference)) {
      const expr = node.moduleReference.expression;
      if (ts.isStringLiteral(expr)) found.push(expr.text);
    } else if (ts.isCallExpression(node)) {
      const callee = node.expression;
      const isImport = callee.kind === ts.SyntaxKind.ImportKeyword;
      const isRequire = ts.isIdentifier(callee) && callee.text === "require";
      const [arg] = node.arguments;
      if ((isImport || isRequire) && arg !== undefined && ts.isStringLiteralLike(arg)) found.push(arg.text);
    }
    ts.forEachChild(node, visit);
  };
  visit(ts.createSourceFile("x.ts", source, ts.ScriptTarget.Latest, true));
  return found;
}

function violation(file: string, spec: string): string | null {
  if (spec.startsWith("node:") || builtinModules.includes(spec)) return null;
  if (spec.startsWith(".")) {
    const target = resolve(dirname(file), spec);
    const inside = (dir: string): boolean => target === dir || target.startsWith(dir + sep);
    return inside(CLI) || inside(CONTRACT) ? null : `${relative(ROOT, file)} imports ${spec} (outside cli/ and server/contract/)`;
  }
  const pkg = spec.startsWith("@") ? spec.split("/").slice(0, 2).join("/") : spec.split("/")[0];
  return PACKAGES.has(pkg) ? null : `${relative(ROOT, file)} imports package ${spec} (allowed: ${[...PACKAGES].join(", ")})`;
}

describe("the cli/ import boundary", () => {
  it("imports only from cli/, server/contract/, Node built-ins and the CLI's own packages", () => {
    const files = sourceFiles(CLI);
    expect(files.length).toBeGreaterThan(5);
    const violations = files.flatMap((f) => specifiers(readFileSync(f, "utf8")).map((s) => violation(f, s))).filter(Boolean);
    expect(violations).toEqual([]);
  });

  it("would flag an import of the daemon's internals", () => {
    const file = join(CLI, "commands", "x.ts");
    expect(violation(file, "../../server/app")).toMatch(/outside cli\/ and server\/contract\//);
    expect(violation(file, "../../server/contract/errors")).toBeNull();
    expect(violation(file, "fastify")).toMatch(/imports package fastify/);
    expect(specifiers(`import { a } from "../x";\nimport type { B } from '../y';\nexport * from "./z";\nconst m = await import("../w");\nconst n = require("../v");\nconst t = \`import { x } from "tau";\`;`)).toEqual([
      "../x",
      "../y",
      "./z",
      "../w",
      "../v",
    ]);
  });
});
