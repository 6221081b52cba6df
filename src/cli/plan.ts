import { resolve } from "node:path";
import { plan } from "../build/build.js";
import { formatPlan, hasWork } from "../report/plan-text.js";
import { reportFailure } from "./failure.js";
import { projectSettings } from "./project-settings.js";
import { ExitCode, outPalette, type CliIO } from "./io.js";

export interface PlanCommandOptions {
  renderer?: string;
  json?: boolean;
  detailedExitcode?: boolean;
  force?: string[];
  quality?: string;
}

export async function planCommand(story: string, options: PlanCommandOptions, io: CliIO): Promise<number> {
  const file = resolve(io.cwd, story);
  const resolved = await projectSettings(file, options, io);
  if (!resolved.ok) return resolved.exitCode;
  const { settings } = resolved;
  const result = await plan(file, {
    renderer: settings.renderer,
    force: options.force ?? [],
    rendererOptions: settings.quality ? { quality: settings.quality } : {},
    env: io.env,
  });
  if (!result.ok) return reportFailure(result.failure, io);
  const { plan: thePlan } = result;
  if (options.json) {
    io.stdout.write(
      JSON.stringify(
        {
          renderer: result.renderer.identity.name,
          counts: thePlan.counts,
          ...(thePlan.credits !== undefined ? { credits: thePlan.credits } : {}),
          items: thePlan.items.map(({ id, action, reasons, credits, notes }) => ({ id, action, reasons, ...(credits ? { credits } : {}), ...(notes ? { notes } : {}) })),
          ...(thePlan.blocking ? { blocking: thePlan.blocking } : {}),
        },
        null,
        2,
      ) + "\n",
    );
  } else {
    io.stdout.write(formatPlan(thePlan, outPalette(io)) + "\n");
  }
  return options.detailedExitcode && hasWork(thePlan) ? ExitCode.pending : ExitCode.ok;
}
