import { resolve } from "node:path";
import { plan } from "../build/build.js";
import { formatPlan, hasWork } from "../report/plan-text.js";
import { reportFailure } from "./failure.js";
import { ExitCode, outPalette, type CliIO } from "./io.js";

export interface PlanCommandOptions {
  renderer?: string;
  json?: boolean;
  detailedExitcode?: boolean;
  force?: string[];
  quality?: string;
}

export async function planCommand(story: string, options: PlanCommandOptions, io: CliIO): Promise<number> {
  const result = await plan(resolve(io.cwd, story), {
    renderer: options.renderer ?? "local",
    force: options.force ?? [],
    rendererOptions: options.quality ? { quality: options.quality } : {},
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
          items: thePlan.items.map(({ id, action, reasons, credits }) => ({ id, action, reasons, ...(credits ? { credits } : {}) })),
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
