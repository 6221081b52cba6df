import { resolve } from "node:path";
import { diagnose } from "../project/doctor.js";
import { ExitCode, outPalette, type CliIO } from "./io.js";

export async function doctorCommand(dir: string, options: { json?: boolean }, io: CliIO): Promise<number> {
  const report = await diagnose(resolve(io.cwd, dir), io.env);
  if (options.json) {
    io.stdout.write(JSON.stringify(report, null, 2) + "\n");
  } else {
    const p = outPalette(io);
    const width = Math.max(...report.checks.map((c) => c.name.length));
    for (const check of report.checks) {
      io.stdout.write(`${check.ok ? p.green("ok  ") : p.red("FAIL")} ${check.name.padEnd(width)}  ${check.detail}\n`);
      if (check.fix) io.stdout.write(`     ${" ".repeat(width)}  ${p.cyan("fix")}: ${check.fix}\n`);
    }
    const failed = report.checks.filter((c) => !c.ok).length;
    io.stdout.write(failed ? `\n${failed} of ${report.checks.length} checks failed\n` : `\nall ${report.checks.length} checks passed\n`);
  }
  return report.ok ? ExitCode.ok : ExitCode.failure;
}
