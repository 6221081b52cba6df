#!/usr/bin/env node
import { existsSync } from "node:fs";

const main = new URL("../dist/cli/main.js", import.meta.url);
if (!existsSync(main)) {
  process.stderr.write("error: storyc is not built (dist/ is missing)\n  hint: run `npm install` or `npm run build` in the storyc folder\n");
  process.exit(1);
}
// A reader that stops early (`storyc validate ... | head`) is not an error.
for (const stream of [process.stdout, process.stderr]) {
  stream.on("error", (error) => {
    if (error.code === "EPIPE") process.exit(process.exitCode ?? 0);
    throw error;
  });
}
const { run } = await import(main.href);
process.exitCode = await run(process.argv.slice(2));
