import { relative, resolve } from "node:path";
import { validate } from "../story/validate.js";
import { formatDiagnostic, plural } from "../report/diagnostics.js";
import { ExitCode, outPalette, type CliIO } from "./io.js";
import { keepSchemasCurrent } from "./schema-sync.js";

export interface ValidateCommandOptions {
  json?: boolean;
  strict?: boolean;
}

export async function validateCommand(files: string[], options: ValidateCommandOptions, io: CliIO): Promise<number> {
  await keepSchemasCurrent(files.map((f) => resolve(io.cwd, f)), io);
  const report = await validate(
    files.map((f) => resolve(io.cwd, f)),
    { strict: Boolean(options.strict) },
  );
  // Paths are printed as the user typed them (relative to where storyc runs), so that editors can jump to them.
  for (const file of report.files) {
    const shown = relative(io.cwd, file.file) || file.file;
    file.file = shown;
    for (const d of file.diagnostics) d.file = shown;
  }
  if (options.json) {
    const files = report.files.map(({ file, valid, diagnostics }) => ({ file, valid, diagnostics }));
    io.stdout.write(JSON.stringify({ valid: report.valid, errors: report.errors, warnings: report.warnings, files }, null, 2) + "\n");
    return report.valid ? ExitCode.ok : ExitCode.failure;
  }
  const p = outPalette(io);
  for (const file of report.files) {
    for (const d of file.diagnostics) io.stdout.write(formatDiagnostic(d, file.source?.text, p) + "\n\n");
  }
  const invalid = report.files.filter((f) => !f.valid).length;
  const summary =
    report.valid
      ? `${p.green("✓")} ${plural(report.files.length, "story", "stories")} valid${report.warnings ? `, ${plural(report.warnings, "warning")}` : ""}`
      : `${p.red("✗")} ${invalid} of ${plural(report.files.length, "story", "stories")} invalid: ${plural(report.errors, "error")}, ${plural(report.warnings, "warning")}`;
  io.stdout.write(summary + "\n");
  return report.valid ? ExitCode.ok : ExitCode.failure;
}
