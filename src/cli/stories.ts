import { relative, resolve } from "node:path";
import type { BuildEvent } from "../engine/events.js";
import { buildStories, planStories } from "../engine/stories.js";
import type { ProjectSettings } from "../project/config.js";
import { findStories } from "../project/stories.js";
import { formatBytes, JsonReporter, PlainReporter, type BuildReporter } from "../report/build-reporters.js";
import { formatPlansMarkdown } from "../report/plan-markdown.js";
import { formatPlan, hasWork } from "../report/plan-text.js";
import { connectFarm, type BuildCommandOptions } from "./build.js";
import { reportFailure } from "./failure.js";
import { CliError, ExitCode, outPalette, type CliIO } from "./io.js";
import type { PlanCommandOptions } from "./plan.js";
import { projectSettings, rendererChoice } from "./project-settings.js";

/** Whether the arguments name exactly one story file: the single-story commands keep their output as it was. */
export function isOneStory(args: readonly string[]): boolean {
  return args.length === 1 && !/[*?[]/.test(args[0]!) && /\.ya?ml$/.test(args[0]!);
}

async function storiesAndSettings(args: readonly string[], flags: Record<string, unknown>, io: CliIO) {
  const found = await findStories(args, io.cwd);
  if (found.unmatched.length) throw new CliError(`no story matches ${found.unmatched.map((a) => JSON.stringify(a)).join(", ")}`, ExitCode.usage, "name story files, folders or globs, or nothing for every story of the project");
  if (found.files.length === 0) throw new CliError("no stories found in this project", ExitCode.usage, "create one with storyc init or storyc new");
  const settings = new Map<string, ProjectSettings>();
  for (const file of found.files) {
    const resolved = await projectSettings(file, flags, io);
    if (!resolved.ok) return { ok: false as const, exitCode: resolved.exitCode };
    settings.set(file, resolved.settings);
  }
  return { ok: true as const, files: found.files, settings };
}

/** `storyc build` of several stories (or all): one pool of jobs; each story's lines carry its name. */
export async function buildStoriesCommand(args: readonly string[], options: BuildCommandOptions, io: CliIO, argv: readonly string[]): Promise<number> {
  const flags = { ...options, ...(options.out ? { outDir: resolve(io.cwd, options.out) } : {}) };
  const chosen = await storiesAndSettings(args, flags, io);
  if (!chosen.ok) return chosen.exitCode;
  const { files, settings } = chosen;
  const p = outPalette(io);
  const show = (path: string) => relative(io.cwd, path) || path;
  const write = (s: string) => void io.stdout.write(s);
  const reporters = new Map<string, BuildReporter>(
    files.map((file): [string, BuildReporter] => {
      const name = show(file);
      if (options.json) return [file, new JsonReporter((line) => write(line.replace(/^\{/, `{"story":${JSON.stringify(name)},`)))];
      // Each line of a story's output starts with its name, so interleaved stories stay readable.
      return [file, new PlainReporter((text) => write(text.replace(/^(?=.)/gm, `${p.dim(`${name} |`)} `)), p, show)];
    }),
  );
  const first = settings.get(files[0]!)!;
  // One connection to the farm for every story: they share its queue, and a key two stories share is one job.
  const farm = first.queue ? await connectFarm(first, io) : undefined;
  const outcome = await buildStories(files, {
    ...(farm ? { queue: farm } : {}),
    jobs: first.jobs,
    force: options.force ?? [],
    keepGoing: Boolean(options.keepGoing),
    lockTimeoutMs: (options.lockTimeout ?? 0) * 1000,
    command: `storyc build (${files.length} stories${argv.includes("--remote-cache") ? ", remote cache" : ""})`,
    env: io.env,
    optionsFor: (file) => {
      const s = settings.get(file)!;
      return {
        ...rendererChoice(s),
        ...(s.outDir && options.out ? { outDir: resolve(s.outDir, storyName(file)) } : s.outDir ? { outDir: s.outDir } : {}),
        ...(s.remoteCache ? { remoteCache: s.remoteCache } : {}),
      };
    },
    onEvent: (file: string, event: BuildEvent) => reporters.get(file)!.onEvent(event),
  }).finally(() => farm?.close());
  let exit: number = ExitCode.ok;
  const total = { rendered: 0, restored: 0, fresh: 0, remote: 0, down: 0, up: 0, failed: 0 };
  for (const { result } of outcome.builds) {
    const summary = result.ok ? result.summary : "summary" in result.failure ? result.failure.summary : undefined;
    if (summary) {
      total.rendered += summary.rendered.length;
      total.restored += summary.restored.length;
      total.fresh += summary.fresh.length;
      total.failed += summary.failed.length;
      total.remote += summary.remote?.nodes.length ?? 0;
      total.down += summary.remote?.downloadedBytes ?? 0;
      total.up += summary.remote?.uploadedBytes ?? 0;
    }
    if (!result.ok) exit = Math.max(exit, reportFailure(result.failure, io));
  }
  if (!options.json) {
    const remote = [...settings.values()].some((s) => s.remoteCache) ? `, ${total.remote} from the remote cache (${formatBytes(total.down)} down, ${formatBytes(total.up)} up)` : "";
    const head = outcome.ok ? p.green(`Built ${files.length} stories`) : p.red(`${files.length} stories, not all built`);
    write(`${head}: ${total.rendered} rendered, ${total.restored} restored from the cache, ${total.fresh} fresh${total.failed ? `, ${p.red(`${total.failed} failed`)}` : ""}${remote}\n`);
  }
  return exit;
}

/** `storyc plan` of several stories (or all): text, JSON or a Markdown table for a pull request. */
export async function planStoriesCommand(args: readonly string[], options: PlanCommandOptions, io: CliIO): Promise<number> {
  const chosen = await storiesAndSettings(args, options as Record<string, unknown>, io);
  if (!chosen.ok) return chosen.exitCode;
  const { files, settings } = chosen;
  const results = await planStories(files, {
    force: options.force ?? [],
    env: io.env,
    optionsFor: (file) => {
      const s = settings.get(file)!;
      return {
        ...rendererChoice(s),
        // A plan never writes: the cache is read only.
        ...(s.remoteCache ? { remoteCache: { ...s.remoteCache, readonly: true } } : {}),
      };
    },
  });
  const show = (path: string) => relative(io.cwd, path) || path;
  const plans: Array<{ story: string; plan: import("../engine/plan.js").Plan; renderer: string }> = [];
  let exit: number = ExitCode.ok;
  for (const { file, result } of results) {
    if (!result.ok) exit = Math.max(exit, reportFailure(result.failure, io));
    else for (const warning of result.warnings) io.stderr.write(`warning: ${show(file)}: ${warning}\n`);
    if (result.ok) plans.push({ story: show(file), plan: result.plan, renderer: result.renderer.identity.name });
  }
  const format = options.json ? "json" : (options.format ?? "text");
  if (format === "markdown") io.stdout.write(formatPlansMarkdown(plans));
  else if (format === "json") {
    const stories = plans.map(({ story, plan, renderer }) => ({
      story,
      renderer,
      counts: plan.counts,
      ...(plan.credits !== undefined ? { credits: plan.credits } : {}),
      items: plan.items.map(({ id, action, reasons, credits }) => ({ id, action, reasons, ...(credits ? { credits } : {}) })),
    }));
    io.stdout.write(JSON.stringify({ stories }, null, 2) + "\n");
  } else {
    const p = outPalette(io);
    io.stdout.write(plans.map(({ story, plan }) => `${p.bold(story)}\n${formatPlan(plan, p)}\n`).join("\n"));
  }
  if (exit !== ExitCode.ok) return exit;
  return options.detailedExitcode && plans.some((x) => hasWork(x.plan)) ? ExitCode.pending : ExitCode.ok;
}

function storyName(file: string): string {
  return file.replace(/^.*[\\/]/, "").replace(/\.ya?ml$/, "");
}
