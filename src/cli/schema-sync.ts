import { dirname, relative } from "node:path";
import { findProjectRoot } from "../project/paths.js";
import { syncSchemaCopies } from "../project/schema-copy.js";
import { describeOsError } from "../project/os-errors.js";
import { safe } from "../report/terminal-text.js";
import { errPalette, type CliIO } from "./io.js";

/**
 * Brings the schema copies of the story repos these files live in up to date
 * with this storyc, and says so on stderr (stdout may be JSON). A copy that
 * cannot be written is a warning: checking a story must not fail for it.
 */
export async function keepSchemasCurrent(files: readonly string[], io: CliIO): Promise<void> {
  const p = errPalette(io);
  const roots = new Set(files.map((f) => findProjectRoot(dirname(f))));
  for (const root of roots) {
    try {
      for (const f of await syncSchemaCopies(root, { createMissing: false })) io.stderr.write(`${p.dim("note")}: updated ${safe(relative(io.cwd, f) || f)} to this storyc's schema; commit it with your stories\n`);
    } catch (error) {
      const os = describeOsError(error);
      io.stderr.write(`${p.yellow("warning")}: could not update the schema copy: ${safe(os?.message ?? String(error))}\n`);
    }
  }
}
