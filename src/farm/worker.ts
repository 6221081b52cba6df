import { rm } from "node:fs/promises";
import { join } from "node:path";
import { UnrecoverableError, WaitingError, Worker, type Job } from "bullmq";
import { cacheMemo } from "../engine/executor.js";
import { Cache, type StoredOutput } from "../lock/cache.js";
import { openRemoteCache, type RemoteCacheSettings } from "../remote-cache/open.js";
import type { RemoteCache } from "../remote-cache/remote-cache.js";
import type { WORKER_RENDERERS } from "../project/options.js";
import { loadRenderer } from "../render/registry.js";
import type { DepOutput, Renderer } from "../render/types.js";
import type { ToolchainOf } from "../graph/nodes.js";
import { probeRedis, QUEUE_NAME, queueTimeouts, redactQueueUrl, redisConnection } from "./connection.js";
import { toolchainDigest, toolchainOf, type FarmJobData, type FarmJobProgress, type FarmJobResult, type JobDep } from "./job.js";

export interface WorkerOptions {
  /** redis://HOST:PORT */
  queue: string;
  remoteCache: RemoteCacheSettings;
  renderer: (typeof WORKER_RENDERERS)[number];
  concurrency: number;
  /** This machine's own cache of blobs (inputs fetched, outputs made). */
  cacheDir: string;
  /** How this worker is named in results, events and printed lines. */
  name: string;
  /**
   * How long a job's lock lasts without renewal, and how often stalled jobs
   * are looked for: a worker killed mid-node hands its node to another after
   * about this long plus one interval. Default 30 s (BullMQ's).
   */
  lockMs?: number;
  env: NodeJS.ProcessEnv;
  onEvent(event: WorkerEvent): void;
}

/** What a worker says while it runs; the CLI prints them. */
export type WorkerEvent =
  | { type: "ready"; queue: string; name: string; concurrency: number; renderer: string }
  | { type: "node-start"; id: string; key: string }
  | { type: "node-done"; id: string; key: string; durationMs: number }
  | { type: "node-failed"; id: string; error: string; final: boolean }
  | { type: "warning"; message: string };

export interface FarmWorker {
  /** Stops taking jobs, lets the current ones finish (or, with `force`, stops them and hands them back to the queue), then disconnects. */
  close(force?: boolean): Promise<void>;
}

/** Starts a worker after a bounded PING: an unreachable Redis throws QueueUnavailableError, never hangs. */
export async function startWorker(options: WorkerOptions): Promise<FarmWorker> {
  const timeouts = queueTimeouts(options.env);
  await probeRedis(options.queue, timeouts.connectMs);
  const cache = new Cache(options.cacheDir, options.cacheDir);
  const renderers = new Map<string, Promise<{ renderer: Renderer; tools: ToolchainOf | undefined }>>();
  let remote: RemoteCache | null = null;
  /** Renders in progress, by job id: a forced close aborts them and hands their jobs back. */
  const active = new Map<string, AbortController>();

  /** One renderer per set of options (quality): a farm serves builds that ask for different ones. */
  const rendererFor = (rendererOptions: Record<string, unknown>) => {
    const id = JSON.stringify(rendererOptions);
    let made = renderers.get(id);
    if (!made) {
      made = (async () => {
        const renderer = await loadRenderer({ name: options.renderer, options: rendererOptions, env: options.env });
        await renderer.prepare?.(new AbortController().signal);
        return { renderer, tools: await toolchainOf(renderer, options.cacheDir) };
      })();
      renderers.set(id, made);
      made.catch(() => renderers.delete(id));
    }
    return made;
  };

  /** The team cache gives up for good after one failure (right for a build); a worker lives long, so it opens it again. */
  const teamCache = async (): Promise<RemoteCache> => {
    if (remote?.available) return remote;
    await remote?.close();
    const opened = await openRemoteCache(options.remoteCache, {
      env: options.env,
      baseDir: process.cwd(),
      onWarning: (w) => options.onEvent({ type: "warning", message: w.message }),
    });
    if (!opened.ok) throw new UnrecoverableError(opened.message);
    remote = opened.cache;
    return remote;
  };

  const processor = async (job: Job<FarmJobData, FarmJobResult>, token?: string): Promise<FarmJobResult> => {
    const data = job.data;
    if (data?.version !== 1) throw new UnrecoverableError(`a job of another storyc version (format ${String(data?.version)}); upgrade the workers and the builds together`);
    const { node } = data;
    const started = performance.now();
    options.onEvent({ type: "node-start", id: node.id, key: node.key });
    const made = await rendererFor(data.renderer.options);
    // Same key, same bytes holds only on the same toolchain: a worker that would make other bytes refuses.
    const mine = toolchainDigest(made.renderer, made.tools, node);
    if (data.renderer.name !== options.renderer || mine.digest !== data.toolchain.digest) {
      throw new UnrecoverableError(`toolchain mismatch for ${node.id}: the build expects ${data.toolchain.describe}, worker ${options.name} has ${mine.describe}`);
    }
    const cacheNow = await teamCache();
    const inputs: StoredOutput[] = [...data.media, ...Object.values(data.deps).flatMap((d) => (Array.isArray(d) ? d : [d]).flatMap((x) => x.outputs))];
    const fetched = await cacheNow.fetch(inputs, cache);
    if (!fetched.ok) throw new Error(`the inputs of ${node.id} are ${fetched.reason} in the remote cache ${cacheNow.location}`);
    // Verified copies, by the hash the node's inputs name them with.
    const media = Object.fromEntries(data.media.map((m) => [m.sha256, cache.blobPath(m.sha256)]));
    const depOutput = (d: JobDep): DepOutput => ({ id: d.id, files: Object.fromEntries(d.outputs.map((o) => [o.name, cache.blobPath(o.sha256)])), meta: d.meta });
    const deps = Object.fromEntries(Object.entries(data.deps).map(([role, d]) => [role, Array.isArray(d) ? d.map(depOutput) : depOutput(d)]));
    // Tells the building process at once which worker took the node (its task tree shows it).
    void job.updateProgress({ fraction: 0, worker: options.name } satisfies FarmJobProgress as unknown as object).catch(() => undefined);
    const workDir = await cache.scratch(node.id);
    let lastProgress = 0;
    const controller = new AbortController();
    active.set(String(job.id), controller);
    try {
      const rendered = await made.renderer.render({
        node,
        deps,
        media,
        workDir,
        signal: controller.signal,
        pending: undefined,
        recordPending: async () => {
          throw new Error("paid remote work is never sent to the farm");
        },
        memo: cacheMemo(cache, made.renderer.identity),
        progress: (fraction) => {
          // At most a few updates a second: each is a Redis round trip and an event to every build.
          const now = performance.now();
          if (now - lastProgress < 250) return;
          lastProgress = now;
          const progress: FarmJobProgress = { fraction, worker: options.name };
          void job.updateProgress(progress as unknown as object).catch(() => undefined);
        },
      });
      const outputs: StoredOutput[] = [];
      for (const file of rendered.files) outputs.push(await cache.put(file.path, file.name, { move: true }));
      const meta = rendered.meta ?? {};
      await cache.putAction(node.key, { outputs, meta });
      cacheNow.upload(node.key, { outputs, meta }, cache);
      await cacheNow.drain();
      // The build downloads these next: the job succeeds only once they are there.
      if (!(await cacheNow.hasBlobs(outputs))) throw new Error(`could not upload the outputs of ${node.id} to the remote cache ${cacheNow.location}`);
      options.onEvent({ type: "node-done", id: node.id, key: node.key, durationMs: performance.now() - started });
      return { outputs, meta, worker: options.name };
    } catch (error) {
      // Stopped at once: the job goes back to the queue for another worker now, not after its lock runs out.
      if (controller.signal.aborted) {
        await job.moveToWait(token);
        throw new WaitingError();
      }
      throw error;
    } finally {
      active.delete(String(job.id));
      await rm(workDir, { recursive: true, force: true });
    }
  };

  const lockMs = options.lockMs ?? 30_000;
  // Given as an instance, the connection is "shared" for BullMQ, which then leaves closing it to us.
  const connection = redisConnection(options.queue, { connectMs: timeouts.connectMs });
  connection.on("error", () => undefined);
  const worker = new Worker<FarmJobData, FarmJobResult>(QUEUE_NAME, processor, {
    connection,
    concurrency: options.concurrency,
    name: options.name,
    lockDuration: lockMs,
    stalledInterval: lockMs,
    // A node survives two workers killed under it before its failure is final.
    maxStalledCount: 2,
  });
  worker.on("failed", (job, error) => {
    if (!job) return;
    const final = error instanceof UnrecoverableError || error.name === "UnrecoverableError" || job.attemptsMade >= (job.opts.attempts ?? 1);
    options.onEvent({ type: "node-failed", id: job.data?.node?.id ?? String(job.id), error: error.message, final });
  });
  worker.on("error", (error) => options.onEvent({ type: "warning", message: `queue: ${error.message.split(options.queue).join(redactQueueUrl(options.queue))}` }));
  await worker.waitUntilReady();
  options.onEvent({ type: "ready", queue: redactQueueUrl(options.queue), name: options.name, concurrency: options.concurrency, renderer: options.renderer });

  let closing: Promise<void> | undefined;
  return {
    close(force = false) {
      if (force) for (const controller of active.values()) controller.abort();
      closing ??= (async () => {
        // Waits for the processors: they finish their nodes, or hand them back once aborted.
        await worker.close();
        connection.disconnect();
        await remote?.close();
        for (const made of renderers.values()) await (await made.catch(() => null))?.renderer.dispose?.();
      })();
      return closing;
    },
  };
}
