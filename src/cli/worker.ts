import { hostname, homedir } from "node:os";
import { join, resolve } from "node:path";
import { resolveRemoteCacheSettings } from "../remote-cache/open.js";
import { redactUrl } from "../remote-cache/redact.js";
import type { OptionValue, TableOptions } from "../project/options.js";
import { CliError, errPalette, ExitCode, outPalette, type CliIO } from "./io.js";

export type WorkerCommandOptions = TableOptions<"queue" | "remoteCache" | "concurrency" | "cacheDir" | "name"> & { renderer?: OptionValue<"workerRenderer"> };

/**
 * `storyc worker`: makes nodes from the farm's queue until SIGINT or
 * SIGTERM, then finishes (or hands back) the node in hand and exits 0.
 * Prints one line per node.
 */
export async function workerCommand(options: WorkerCommandOptions, io: CliIO): Promise<number> {
  const { checkQueueUrl, QueueUnavailableError } = await import("../farm/connection.js");
  const { startWorker } = await import("../farm/worker.js");
  const queue = options.queue ?? (io.env.STORYC_QUEUE || undefined);
  if (!queue) throw new CliError("a worker needs the farm's queue", ExitCode.usage, "pass --queue redis://HOST:PORT (or set STORYC_QUEUE)");
  const check = checkQueueUrl(queue);
  if (!check.ok) throw new CliError(check.message, ExitCode.usage);
  const remoteCache = resolveRemoteCacheSettings({ ...(options.remoteCache ? { remoteCache: options.remoteCache } : {}) }, {}, io.env);
  if (!remoteCache) throw new CliError("a worker needs the remote cache the builds use: inputs come from it, outputs go to it", ExitCode.usage, "pass --remote-cache URL (or set STORYC_REMOTE_CACHE)");
  // A worker writes: a read-only setting inherited from the environment would leave builds waiting for outputs that never arrive.
  remoteCache.readonly = false;
  const renderer = options.renderer ?? "local";
  const lockSeconds = Number(io.env.STORYC_WORKER_LOCK_TIMEOUT);
  const p = outPalette(io);
  const write = (s: string) => void io.stdout.write(s);
  const name = options.name ?? `${hostname()}:${process.pid}`;
  let worker;
  try {
    worker = await startWorker({
      queue,
      remoteCache,
      renderer,
      concurrency: options.concurrency ?? 1,
      cacheDir: options.cacheDir ? resolve(io.cwd, options.cacheDir) : join(io.env.XDG_CACHE_HOME || join(homedir(), ".cache"), "storyc", "worker"),
      name,
      ...(io.env.STORYC_WORKER_LOCK_TIMEOUT && lockSeconds > 0 ? { lockMs: Math.round(lockSeconds * 1000) } : {}),
      env: io.env,
      onEvent: (event) => {
        switch (event.type) {
          case "ready":
            write(`worker ${event.name} waiting for nodes on ${event.queue} (${event.renderer} renderer, ${event.concurrency} at a time, remote cache ${redactUrl(remoteCache.url)})\n`);
            break;
          case "node-done":
            write(`rendered ${event.id} in ${(event.durationMs / 1000).toFixed(1)}s\n`);
            break;
          case "node-failed":
            write(`${p.red("failed")} ${event.id}: ${event.error}${event.final ? "" : " (will be tried again)"}\n`);
            break;
          case "warning":
            io.stderr.write(`${errPalette(io).yellow("warning")}: ${event.message}\n`);
            break;
          case "node-start":
            break;
        }
      },
    });
  } catch (error) {
    if (error instanceof QueueUnavailableError) throw new CliError(error.message, ExitCode.failure, "start Redis first (redis-server --port 6379), or check --queue / STORYC_QUEUE");
    throw error;
  }
  // Runs until a signal: the first one lets the nodes in hand finish, a second one hands them back at once.
  await new Promise<void>((resolveStop) => {
    let stopping = false;
    const stop = (signal: NodeJS.Signals) => {
      if (!stopping) {
        stopping = true;
        write(`${signal}: finishing the nodes in hand, then stopping (again to stop them and hand them back to the queue)\n`);
        void worker.close().then(resolveStop, resolveStop);
      } else {
        void worker.close(true).then(resolveStop, resolveStop);
      }
    };
    process.on("SIGINT", stop);
    process.on("SIGTERM", stop);
  });
  write(`worker ${name} stopped\n`);
  return ExitCode.ok;
}
