// tsc does not copy plain .js sources; the generated schema validators are such.
import { copyFileSync, mkdirSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
for (const module of ["story/schema-validator", "project/config-validator"]) {
  for (const ext of [".js", ".d.ts"]) {
    mkdirSync(dirname(join(root, "dist", module)), { recursive: true });
    copyFileSync(join(root, "src", module + ext), join(root, "dist", module + ext));
  }
}
