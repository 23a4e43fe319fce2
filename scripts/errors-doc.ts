// Writes docs/errors.md from the error registry (`npx tsx scripts/errors-doc.ts`). The registry is the
// source of truth; test/contract/errors-doc.test.ts fails when the document and the registry differ.
// The code list is also in cli/schemas/common.schema.json: after adding a code, run `npm run generate`
// (this script, then scripts/cli-schemas.ts).
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { renderErrorsDoc } from "./errors-doc-render";

writeFileSync(join(__dirname, "..", "docs", "errors.md"), renderErrorsDoc());
