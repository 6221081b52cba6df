import { readFile, writeFile } from "node:fs/promises";
import { dirname, join, relative } from "node:path";
import { configSchemaPath, schemaPath } from "../paths.js";
import { makeDir } from "./os-errors.js";

/**
 * A story repo keeps its own copy of storyc's schemas, committed at
 * schemas/*.schema.json, so that the `$schema` modeline of its stories
 * resolves for every collaborator, whatever folder storyc lives in on their
 * machine (and without a network).
 */
export const SCHEMA_DIR = "schemas";

function copies(projectRoot: string): Array<{ from: string; to: string }> {
  return [
    { from: schemaPath(), to: join(projectRoot, SCHEMA_DIR, "story.schema.json") },
    { from: configSchemaPath(), to: join(projectRoot, SCHEMA_DIR, "config.schema.json") },
  ];
}

/** Where the project's copy of the story schema is. */
export function storySchemaCopy(projectRoot: string): string {
  return copies(projectRoot)[0]!.to;
}

/** The modeline's reference from a file to the project's copy of a schema, with forward slashes. */
export function schemaRef(fromFile: string, schemaFile: string): string {
  return relative(dirname(fromFile), schemaFile).split("\\").join("/");
}

const idOf = (text: string | null) => {
  try {
    return text === null ? undefined : (JSON.parse(text) as { $id?: string }).$id;
  } catch {
    return undefined;
  }
};

/**
 * Writes the schema copies that are missing or out of date; with `createMissing: false`, only
 * brings existing copies up to date (a repo that has none is left alone). A file at that path
 * that is not storyc's schema (another $id) is never touched. Returns the files written.
 */
export async function syncSchemaCopies(projectRoot: string, options: { createMissing: boolean }): Promise<string[]> {
  const written: string[] = [];
  for (const { from, to } of copies(projectRoot)) {
    if (from === to) continue;
    const wanted = await readFile(from, "utf8");
    const present = await readFile(to, "utf8").catch(() => null);
    if (present === wanted) continue;
    if (present === null && !options.createMissing) continue;
    if (present !== null && idOf(present) !== idOf(wanted)) continue;
    await makeDir(dirname(to));
    await writeFile(to, wanted);
    written.push(to);
  }
  return written;
}
