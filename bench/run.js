// Runs every benchmark; each prints ratios measured within its own run.
import { spawnSync } from "node:child_process";
import { readdirSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { join } from "node:path";

const dir = fileURLToPath(new URL(".", import.meta.url));
const only = process.argv.slice(2);
const skip = new Set(["lib.js", "run.js", "story-generator.js"]);
for (const file of readdirSync(dir).filter((f) => f.endsWith(".js") && !skip.has(f)).sort()) {
  if (only.length && !only.some((o) => file.includes(o))) continue;
  const r = spawnSync(process.execPath, [join(dir, file)], { stdio: "inherit" });
  if (r.status !== 0) process.exitCode = 1;
}
