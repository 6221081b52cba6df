import { spawn } from "node:child_process";
import { relative, resolve } from "node:path";
import { applyConfig, configPath, defaultJobs, loadProjectConfig } from "../project/config.js";
import type { TableOptions } from "../project/options.js";
import { storyPaths } from "../project/paths.js";
import { formatDiagnostic } from "../report/diagnostics.js";
import { formatSummary, remoteWarning, seconds } from "../report/build-reporters.js";
import { safe, safeLines } from "../report/terminal-text.js";
import { PreviewState } from "../watch/preview-model.js";
import { PreviewServer } from "../watch/preview-server.js";
import { StoryWatcher, type WatcherEvent } from "../watch/watcher.js";
import { CliError, ExitCode, outPalette, type CliIO } from "./io.js";
import { rendererChoice } from "./project-settings.js";
import { connectFarm } from "./build.js";

export interface WatchCommandOptions extends TableOptions<"renderer" | "port" | "jobs" | "quality" | "remoteCache" | "remoteCacheReadonly" | "queue"> {
  open?: boolean;
}

/** Watches a story, rebuilds it on every save, and serves a live preview until Ctrl-C. */
export async function watchCommand(story: string, options: WatchCommandOptions, io: CliIO): Promise<number> {
  const file = resolve(io.cwd, story);
  const p = outPalette(io);
  const write = (s: string) => void io.stdout.write(s);
  const paths = storyPaths(file);
  const state = new PreviewState(paths, io.cwd);
  const server = new PreviewServer(state);
  const show = (path: string) => relative(io.cwd, path) || path;

  let queue = Promise.resolve();
  const onEvent = (event: WatcherEvent) => {
    report(event);
    // Events are folded in order, each after the previous one's file reads.
    queue = queue.then(async () => {
      if (await state.apply(event)) server.broadcast();
    });
  };
  const report = (event: WatcherEvent) => {
    if (event.type === "state" && event.state === "building") write(`${p.dim("watch")} building ${show(file)}\n`);
    else if (event.type === "state" && event.state === "cancelling") write(`${p.dim("watch")} ${p.yellow("saved again")}: cancelling the running build\n`);
    else if (event.type === "state" && event.state === "queued") write(`${p.dim("watch")} ${p.yellow("saved again")}: the paid job goes on; one more build follows\n`);
    else if (event.type === "invalid") {
      for (const d of event.diagnostics) write(formatDiagnostic({ ...d, file: show(d.file) }, event.text, p) + "\n\n");
      const what = event.diagnostics.some((d) => d.file === configPath(paths.projectRoot)) ? "the project config" : "the story";
      write(`${p.dim("watch")} ${p.red("invalid")}: fix ${what} and save; still watching\n`);
    } else if (event.type === "build" && event.event.type === "node-done" && !event.event.restored) {
      write(`  ${p.green("✓")} ${safe(event.event.label)} ${p.dim(`(${seconds(event.event.durationMs)})`)}\n`);
    } else if (event.type === "build" && event.event.type === "remote-cache-warning") {
      write(`  ${remoteWarning(event.event, p)}\n`);
    } else if (event.type === "build" && event.event.type === "node-failed") {
      write(`  ${p.red("✗")} ${safe(event.event.label)}: ${safeLines(event.event.error)}\n`);
    } else if (event.type === "built") {
      const r = event.result;
      if (r.ok || r.failure.reason === "nodes-failed" || r.failure.reason === "cancelled") {
        write(`${formatSummary(r.ok ? r.summary : (r.failure as { summary: Parameters<typeof formatSummary>[0] }).summary, p, show)}\n`);
      } else if ("message" in r.failure) {
        write(`${p.red("error")}: ${safeLines(r.failure.message)}\n`);
      }
      write(`${p.dim("watch")} waiting for changes (Ctrl-C to stop)\n`);
    }
  };

  // The farm is chosen when watch starts: its connection lives as long as the watch.
  const started = await loadProjectConfig(paths.projectRoot);
  const startSettings = started.ok ? applyConfig(options, started.config, { root: paths.projectRoot, storyName: paths.name }, defaultJobs(), io.env) : undefined;
  const farm = startSettings?.queue ? await connectFarm(startSettings, io) : undefined;
  const url = await listenOn(server, options.port ?? 0);
  write(`Preview: ${url}\n`);
  if (options.open) openBrowser(url);
  const watcher = new StoryWatcher(file, {
    // The project config is read again before each build, so that saving it takes effect.
    prepare: async () => {
      const loaded = await loadProjectConfig(paths.projectRoot);
      if (!loaded.ok) return { ok: false, diagnostics: loaded.diagnostics, text: loaded.text };
      const settings = applyConfig(options, loaded.config, { root: paths.projectRoot, storyName: paths.name }, defaultJobs(), io.env);
      return {
        ok: true,
        options: {
          ...rendererChoice(settings),
          jobs: settings.jobs,
          env: io.env,
          ...(settings.remoteCache ? { remoteCache: settings.remoteCache } : {}),
          lockTimeoutMs: 60_000,
          command: `storyc watch ${story}`,
          ...(settings.outDir ? { outDir: settings.outDir } : {}),
          ...(farm ? { queue: farm } : {}),
        },
        cancellable: settings.renderer !== "vimmerse",
      };
    },
    alsoWatch: [configPath(paths.projectRoot)],
    onEvent,
  });
  await watcher.start();
  // The local renderer's slow first steps (compiling the speech synthesizer, loading libvips) are
  // taken now, while the writer reads the preview, rather than on the first save.
  if ((options.renderer ?? "local") === "local") void import("../render/local/index.js").then((m) => m.warmUp()).catch(() => undefined);

  await new Promise<void>((resolveStop) => {
    let stopping = false;
    const stop = () => {
      if (stopping) process.exit(ExitCode.interrupted);
      stopping = true;
      write(`\n${p.dim("watch")} stopping\n`);
      resolveStop();
    };
    process.once("SIGINT", stop);
    process.once("SIGTERM", stop);
  });
  await watcher.stop();
  await queue;
  await farm?.close();
  await server.close();
  return ExitCode.interrupted;
}

async function listenOn(server: PreviewServer, port: number): Promise<string> {
  try {
    return await server.listen(port);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === "EADDRINUSE") throw new CliError(`port ${port} on 127.0.0.1 is in use by another program`, ExitCode.failure, "choose another with --port N, or leave --port out to take any free port");
    if (code === "EACCES") throw new CliError(`port ${port} on 127.0.0.1 needs privileges storyc does not have`, ExitCode.failure, "choose a port above 1023 with --port N, or leave --port out");
    throw error;
  }
}

function openBrowser(url: string): void {
  const command = process.platform === "darwin" ? "open" : process.platform === "win32" ? "cmd" : "xdg-open";
  const args = process.platform === "win32" ? ["/c", "start", "", url] : [url];
  try {
    const child = spawn(command, args, { stdio: "ignore", detached: true });
    child.on("error", () => undefined);
    child.unref();
  } catch {
    // No browser opener here: the URL is printed above.
  }
}
