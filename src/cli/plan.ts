import { resolve } from "node:path";
import { plan } from "../engine/build.js";
import { formatPlan, hasWork } from "../report/plan-text.js";
import type { TableOptions } from "../project/options.js";
import { reportFailure } from "./failure.js";
import { isOneStory, planStoriesCommand } from "./stories.js";
import { projectSettings, rendererChoice } from "./project-settings.js";
import { ExitCode, outPalette, type CliIO } from "./io.js";

export interface PlanCommandOptions extends TableOptions<"renderer" | "quality" | "force" | "remoteCache" | "remoteCacheReadonly"> {
  json?: boolean;
  detailedExitcode?: boolean;
  /** text (default), json (same as --json) or markdown (a table for a pull-request comment). */
  format?: string;
}

export async function planCommand(stories: string | string[], options: PlanCommandOptions, io: CliIO): Promise<number> {
  const args = typeof stories === "string" ? [stories] : stories;
  // Several stories, a folder, a glob, or none (every story of the project).
  if (!isOneStory(args) || options.format === "markdown") return planStoriesCommand(args, options, io);
  const file = resolve(io.cwd, args[0]!);
  const resolved = await projectSettings(file, options, io);
  if (!resolved.ok) return resolved.exitCode;
  const { settings } = resolved;
  const result = await plan(file, {
    ...rendererChoice(settings),
    force: options.force ?? [],
    env: io.env,
    ...(settings.remoteCache ? { remoteCache: { ...settings.remoteCache, readonly: true } } : {}),
  });
  if (!result.ok) return reportFailure(result.failure, io);
  const { plan: thePlan } = result;
  for (const warning of result.warnings) io.stderr.write(`warning: ${warning}\n`);
  if (options.json || options.format === "json") {
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
