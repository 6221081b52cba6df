import { Queue, QueueEvents, type Job } from "bullmq";
import type { Redis } from "ioredis";
import { probeRedis, QUEUE_NAME, queueTimeouts, redactQueueUrl, redisConnection } from "./connection.js";
import type { FarmJobData, FarmJobProgress, FarmJobResult } from "./job.js";

/** How often a job is tried before its failure is final (a crashed render, a cache blip). */
const ATTEMPTS = 3;
/** Finished jobs stay this long, so a rerun or a second story finds them by key instead of queueing again. */
const KEEP_FINISHED_S = 24 * 3600;

/** The connection to Redis was lost for longer than the reconnect timeout: what waited on it fails. */
export class QueueLostError extends Error {}

interface Waiter {
  resolve(result: FarmJobResult): void;
  reject(error: Error): void;
  onProgress?: (p: FarmJobProgress) => void;
}

/**
 * The building process's side of the farm: one Redis connection for a
 * whole run (several stories share it), jobs submitted by node key, and
 * their results awaited through BullMQ's event stream. Every wait ends: on
 * the result, on the build's signal, or when the connection is lost.
 */
export class FarmClient {
  private readonly waiters = new Map<string, Set<Waiter>>();
  private lost: QueueLostError | null = null;
  /** One abort listener per build signal, however many of its nodes wait (dozens on a farm). */
  private readonly onAbort = new WeakMap<AbortSignal, Set<() => void>>();

  private constructor(
    readonly url: string,
    private readonly connection: Redis,
    private readonly queue: Queue<FarmJobData, FarmJobResult>,
    private readonly events: QueueEvents,
    /** QueueEvents reads through a duplicate of this one; it stays ours to close. */
    private readonly eventsBase: Redis,
  ) {}

  /** Where the queue is, without its password: safe to print. */
  get location(): string {
    return redactQueueUrl(this.url);
  }

  /** Connects, after a bounded PING: an unreachable Redis throws QueueUnavailableError at once. */
  static async open(url: string, env: NodeJS.ProcessEnv): Promise<FarmClient> {
    const timeouts = queueTimeouts(env);
    await probeRedis(url, timeouts.connectMs);
    const connection = redisConnection(url, { connectMs: timeouts.connectMs, giveUpAfterMs: timeouts.reconnectMs });
    const queue = new Queue<FarmJobData, FarmJobResult>(QUEUE_NAME, { connection });
    const eventsBase = redisConnection(url, { connectMs: timeouts.connectMs, giveUpAfterMs: timeouts.reconnectMs });
    const events = new QueueEvents(QUEUE_NAME, { connection: eventsBase });
    const client = new FarmClient(url, connection, queue, events, eventsBase);
    // Errors also show as failed commands; listeners keep them from being unhandled.
    queue.on("error", () => undefined);
    events.on("error", () => undefined);
    const eventsConnection = await events.client;
    eventsBase.on("error", () => undefined);
    for (const c of [connection, eventsConnection]) {
      c.on("error", () => undefined);
      c.on("end", () => client.loseConnection());
    }
    events.on("completed", ({ jobId, returnvalue }) => client.settle(jobId, (w) => w.resolve(parseResult(returnvalue))));
    events.on("failed", ({ jobId, failedReason }) => client.settle(jobId, (w) => w.reject(new Error(failedReason))));
    events.on("progress", ({ jobId, data }) => {
      for (const w of client.waiters.get(jobId) ?? []) if (isProgress(data)) w.onProgress?.(data);
    });
    await events.waitUntilReady();
    return client;
  }

  /**
   * Has the farm make a node and waits for what it made. The job id is the
   * node key: a job already waiting or running for the key is joined, not
   * doubled; a finished one is reused unless `again` (its outputs were gone
   * from the team cache); a failed one is tried anew.
   */
  async make(data: FarmJobData, options: { signal: AbortSignal; again?: boolean; onProgress?: (p: FarmJobProgress) => void }): Promise<FarmJobResult> {
    if (this.lost) throw this.lost;
    options.signal.throwIfAborted();
    const jobId = data.node.key;
    let waiter!: Waiter;
    const done = new Promise<FarmJobResult>((resolve, reject) => {
      waiter = { resolve, reject, ...(options.onProgress ? { onProgress: options.onProgress } : {}) };
    });
    // It may be rejected (lost connection, abort) while the job is still being submitted: not an unhandled rejection.
    done.catch(() => undefined);
    // Listen before submitting, so that a fast worker's "completed" cannot pass unseen.
    const set = this.waiters.get(jobId) ?? new Set();
    set.add(waiter);
    this.waiters.set(jobId, set);
    const onAbort = () => waiter.reject(options.signal.reason instanceof Error ? options.signal.reason : new Error("cancelled"));
    this.abortListeners(options.signal).add(onAbort);
    try {
      const existing = await this.finished(jobId);
      if (existing.state === "failed" || (existing.state === "completed" && options.again)) {
        await existing.job?.remove();
      } else if (existing.state === "completed") {
        return parseResult(existing.job?.returnvalue);
      }
      if (existing.state === "unknown" || existing.state === "failed" || existing.state === "completed") {
        await this.queue.add(data.node.id, data, {
          jobId,
          attempts: ATTEMPTS,
          backoff: { type: "exponential", delay: 1_000 },
          removeOnComplete: { age: KEEP_FINISHED_S },
          removeOnFail: { age: KEEP_FINISHED_S },
        });
      }
      // A job joined (another story's, a rerun's) may have finished before this process listened.
      const now = await this.finished(jobId);
      if (now.state === "completed") return parseResult(now.job?.returnvalue);
      if (now.state === "failed") throw new Error(now.job?.failedReason ?? "the job failed");
      return await done;
    } catch (error) {
      if (this.lost) throw this.lost;
      throw error;
    } finally {
      this.abortListeners(options.signal).delete(onAbort);
      set.delete(waiter);
      if (set.size === 0 && this.waiters.get(jobId) === set) this.waiters.delete(jobId);
    }
  }

  /** The queue's counts, for tests and a worker's status. */
  async counts(): Promise<Record<string, number>> {
    return this.queue.getJobCounts("waiting", "active", "completed", "failed", "delayed");
  }

  async close(): Promise<void> {
    const closing = Promise.allSettled([this.events.close(), this.queue.close()]);
    if (this.lost) {
      // A lost connection cannot say goodbye: BullMQ's close would wait for Redis to come back.
      // Closing stops its loops; dropping the sockets ends the wait.
      for (const c of [this.connection, this.eventsBase, await this.events.client]) c.disconnect();
      await Promise.race([closing, new Promise((resolve) => setTimeout(resolve, 1_000).unref())]);
      return;
    }
    await closing;
    this.connection.disconnect();
    this.eventsBase.disconnect();
  }

  /**
   * A job's state, and the job when it is finished. The state is read first:
   * a job read before it completes has no return value yet, even if its state,
   * read a moment later, says completed.
   */
  private async finished(jobId: string): Promise<{ state: string; job?: Job<FarmJobData, FarmJobResult> | undefined }> {
    const state = await this.queue.getJobState(jobId);
    if (state !== "completed" && state !== "failed") return { state };
    return { state, job: await this.queue.getJob(jobId) };
  }

  private abortListeners(signal: AbortSignal): Set<() => void> {
    let set = this.onAbort.get(signal);
    if (!set) {
      const listeners = new Set<() => void>();
      signal.addEventListener("abort", () => [...listeners].forEach((f) => f()), { once: true });
      this.onAbort.set(signal, listeners);
      set = listeners;
    }
    return set;
  }

  private settle(jobId: string, how: (w: Waiter) => void): void {
    for (const w of this.waiters.get(jobId) ?? []) how(w);
  }

  private loseConnection(): void {
    if (this.lost) return;
    this.lost = new QueueLostError(`lost the connection to the queue at ${this.location}; finished nodes are kept, run the build again when Redis is back`);
    for (const set of this.waiters.values()) for (const w of set) w.reject(this.lost);
  }
}

function parseResult(value: unknown): FarmJobResult {
  const result = (typeof value === "string" ? JSON.parse(value) : value) as FarmJobResult | null;
  if (!result || !Array.isArray(result.outputs)) throw new Error("the farm returned a result without outputs");
  return result;
}

function isProgress(data: unknown): data is FarmJobProgress {
  return Boolean(data) && typeof data === "object" && typeof (data as FarmJobProgress).fraction === "number" && typeof (data as FarmJobProgress).worker === "string";
}
