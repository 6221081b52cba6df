import { writeSync } from "node:fs";
import { relative, resolve } from "node:path";
import { build } from "../engine/build.js";
import type { BuildEvent } from "../engine/events.js";
import { JsonReporter, PlainReporter, type BuildReporter } from "../report/build-reporters.js";
import type { TableOptions } from "../project/options.js";
import { removeOwnScratchSync } from "../engine/scratch.js";
import { storyPaths } from "../project/paths.js";
import { redactQueueUrl } from "../farm/redact.js";
import { reportFailure } from "./failure.js";
import { keepSchemasCurrent } from "./schema-sync.js";
import { redactUrl } from "../remote-cache/redact.js";
import { buildStoriesCommand, isOneStory } from "./stories.js";
import { projectSettings, rendererChoice } from "./project-settings.js";
import { CliError, ExitCode, outPalette, type CliIO } from "./io.js";
import type { FarmClient } from "../farm/farm-client.js";
import type { ProjectSettings } from "../project/config.js";

export interface BuildCommandOptions extends TableOptions<"renderer" | "jobs" | "quality" | "force" | "lockTimeout" | "webhookPort" | "remoteCache" | "remoteCacheReadonly" | "queue"> {
  json?: boolean;
  keepGoing?: boolean;
  out?: string;
}

export async function buildCommand(stories: string | string[], options: BuildCommandOptions, io: CliIO, argv: readonly string[]): Promise<number> {
  const args = typeof stories === "string" ? [stories] : stories;
  // Several stories, a folder, a glob, or none (every story of the project): one pool of jobs.
  if (!isOneStory(args)) return buildStoriesCommand(args, options, io, argv);
  const file = resolve(io.cwd, args[0]!);
  const resolved = await projectSettings(file, { ...options, ...(options.out ? { outDir: resolve(io.cwd, options.out) } : {}) }, io);
  if (!resolved.ok) return resolved.exitCode;
  const { settings } = resolved;
  await keepSchemasCurrent([file], io);
  const farm = settings.queue ? await connectFarm(settings, io) : undefined;
  const reporter = await chooseReporter(options, io);
  const controller = new AbortController();
  const stopSignals = onInterrupt(io, controller, (event) => reporter.onEvent(event), () => removeOwnScratchSync(storyPaths(file, settings.outDir ? { outDir: settings.outDir } : {}).cacheDir));
  try {
    const result = await build(file, {
      ...rendererChoice(settings, options.webhookPort !== undefined ? { webhookPort: options.webhookPort } : {}),
      jobs: settings.jobs,
      force: options.force ?? [],
      keepGoing: Boolean(options.keepGoing),
      lockTimeoutMs: (options.lockTimeout ?? 0) * 1000,
      signal: controller.signal,
      onEvent: (event) => reporter.onEvent(event),
      // Recorded in the writer lock and shown to whoever waits on it: without the cache URL's credentials.
      command: `storyc ${argv.map((arg) => arg.replace(/^(--remote-cache=|--queue=)?(.*)$/, (_, flag: string | undefined, value: string) => `${flag ?? ""}${/^rediss?:/.test(value) ? redactQueueUrl(value) : redactUrl(value)}`)).join(" ")}`,
      env: io.env,
      ...(settings.remoteCache ? { remoteCache: settings.remoteCache } : {}),
      ...(settings.outDir ? { outDir: settings.outDir } : {}),
      ...(farm ? { queue: farm } : {}),
    });
    await reporter.close();
    if (!result.ok) return reportFailure(result.failure, io);
    return ExitCode.ok;
  } finally {
    stopSignals();
    await farm?.close();
  }
}

/** The render farm a build was pointed at (--queue, STORYC_QUEUE, queue:), connected; usage problems and an unreachable Redis end the command. */
export async function connectFarm(settings: ProjectSettings, io: CliIO): Promise<FarmClient> {
  const { farmUsageProblem, openFarm } = await import("../farm/open.js");
  const problem = farmUsageProblem(settings);
  if (problem) throw new CliError(problem.message, ExitCode.usage, problem.hint);
  const opened = await openFarm(settings.queue!, io.env);
  if (!opened.ok) throw new CliError(opened.message, ExitCode.failure, "start Redis and the workers (see the README's render farm section), or build without --queue");
  return opened.farm;
}

async function chooseReporter(options: BuildCommandOptions, io: CliIO): Promise<BuildReporter> {
  const write = (s: string) => void io.stdout.write(s);
  if (options.json) return new JsonReporter(write);
  const p = outPalette(io);
  const show = (path: string) => relative(io.cwd, path) || path;
  if (io.stdout.isTTY && io.stdout === process.stdout && !io.env.CI) {
    const { ListrReporter } = await import("../report/listr-reporter.js");
    return new ListrReporter(write, p, show);
  }
  return new PlainReporter(write, p, show);
}

/**
 * First SIGINT or SIGTERM: start nothing new, cancel what can be, keep what
 * finished. A second one exits at once; the lockfile, written only by
 * renames, still parses.
 */
function onInterrupt(io: CliIO, controller: AbortController, emit: (e: BuildEvent) => void, beforeExit: () => void): () => void {
  if (io.stdout !== process.stdout) return () => undefined;
  let count = 0;
  const handler = (signal: NodeJS.Signals) => {
    count++;
    if (count === 1) {
      emit({ type: "cancelling", reason: signal === "SIGINT" ? "interrupted" : "terminated" });
      controller.abort(new Error(signal));
    } else {
      beforeExit();
      // Written straight to the descriptors: a task tree on the terminal may hold the streams, and exit does not wait for them.
      if (io.stdout.isTTY) writeSync(1, "\x1b[?25h\n");
      writeSync(2, "stopped at once; the lockfile keeps what finished\n");
      process.exit(ExitCode.interrupted);
    }
  };
  process.on("SIGINT", handler);
  process.on("SIGTERM", handler);
  return () => {
    process.off("SIGINT", handler);
    process.off("SIGTERM", handler);
  };
}
