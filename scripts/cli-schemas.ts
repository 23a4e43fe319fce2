// Writes cli/schemas/*.schema.json from the contract's schemas (`npx tsx scripts/cli-schemas.ts`), and
// removes schema files the contract no longer defines. server/contract/schemas-cli.ts is the source of
// truth; test/contract/cli-schemas.test.ts fails when the committed files differ from what this writes.
import { readdirSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { renderCliSchemas } from "../server/contract";

const dir = join(__dirname, "..", "cli", "schemas");
const files = renderCliSchemas();
for (const [name, text] of Object.entries(files)) writeFileSync(join(dir, name), text);
for (const name of readdirSync(dir)) if (name.endsWith(".schema.json") && !(name in files)) rmSync(join(dir, name));
