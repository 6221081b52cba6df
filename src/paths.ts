import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { join } from "node:path";

/** The root of the installed storyc package (dist/ and src/ both sit one level below it). */
export const packageRoot = fileURLToPath(new URL("..", import.meta.url));

export function schemaPath(): string {
  return join(packageRoot, "schemas", "story.schema.json");
}

export function configSchemaPath(): string {
  return join(packageRoot, "schemas", "config.schema.json");
}

let version: string | undefined;
export function packageVersion(): string {
  version ??= (JSON.parse(readFileSync(join(packageRoot, "package.json"), "utf8")) as { version: string }).version;
  return version;
}
