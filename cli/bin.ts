#!/usr/bin/env node
import { main } from "./main";

// A reader that closes the pipe early (`tau logs x --follow | head`) is not an error of tau's.
process.stdout.on("error", (err: NodeJS.ErrnoException) => {
  if (err.code === "EPIPE") process.exit(process.exitCode ?? 0);
  throw err;
});

main(process.argv.slice(2), { stdout: process.stdout, stderr: process.stderr, env: process.env }).then(
  (code) => {
    // exitCode, not exit(): let stdout drain when it is a pipe.
    process.exitCode = code;
  },
  (err: unknown) => {
    process.stdout.write(`${JSON.stringify({ error: { code: "TAU_E_INTERNAL", message: String(err), hint: "This is a bug in tau.", details: {} } }, null, 2)}\n`);
    process.exitCode = 4;
  },
);
