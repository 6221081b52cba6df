// tsc does not copy plain .js sources; the generated schema validator is one.
import { copyFileSync, mkdirSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
for (const name of ["schema-validator.js", "schema-validator.d.ts"]) {
  mkdirSync(join(root, "dist/story"), { recursive: true });
  copyFileSync(join(root, "src/story", name), join(root, "dist/story", name));
}
