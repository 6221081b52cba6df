import { Redis, type RedisOptions } from "ioredis";
import { redactQueueUrl } from "./redact.js";

export { redactQueueUrl };

/** The BullMQ queue every build and worker of a farm shares. Keys, not stories, tell jobs apart. */
export const QUEUE_NAME = "storyc-nodes";

/** How long the first PING may take before Redis counts as unreachable (STORYC_QUEUE_CONNECT_TIMEOUT, seconds). */
const DEFAULT_CONNECT_MS = 5_000;
/** How long a lost connection may try to come back before waits on it fail (STORYC_QUEUE_RECONNECT_TIMEOUT, seconds). */
const DEFAULT_RECONNECT_MS = 10_000;

export type QueueUrlCheck = { ok: true } | { ok: false; message: string };

/** Only redis:// and rediss:// (TLS) name a farm; anything else is a usage error before a connection is tried. */
export function checkQueueUrl(spec: string): QueueUrlCheck {
  let url: URL;
  try {
    url = new URL(spec);
  } catch {
    return { ok: false, message: `the queue ${redactQueueUrl(spec)} is not a URL: use redis://HOST:PORT` };
  }
  if (url.protocol !== "redis:" && url.protocol !== "rediss:") return { ok: false, message: `the queue ${redactQueueUrl(spec)} is not a Redis URL: use redis://HOST:PORT (or rediss:// for TLS)` };
  return { ok: true };
}

export interface QueueTimeouts {
  connectMs: number;
  reconnectMs: number;
}

export function queueTimeouts(env: NodeJS.ProcessEnv): QueueTimeouts {
  const seconds = (name: string, fallback: number) => {
    const n = Number(env[name]);
    return env[name] && Number.isFinite(n) && n > 0 ? Math.round(n * 1000) : fallback;
  };
  return { connectMs: seconds("STORYC_QUEUE_CONNECT_TIMEOUT", DEFAULT_CONNECT_MS), reconnectMs: seconds("STORYC_QUEUE_RECONNECT_TIMEOUT", DEFAULT_RECONNECT_MS) };
}

/** Why Redis could not be used, with the URL redacted: safe to print. */
export class QueueUnavailableError extends Error {
  constructor(
    readonly url: string,
    detail: string,
  ) {
    super(`cannot reach the queue at ${redactQueueUrl(url)} (${scrubUrl(detail, url)})`);
  }
}

/** ioredis puts the URL it was given in some messages: never let its password through. */
function scrubUrl(text: string, url: string): string {
  let password = "";
  try {
    password = decodeURIComponent(new URL(url).password);
  } catch {
    // Not a URL: checkQueueUrl refused it before.
  }
  let out = text.split(url).join(redactQueueUrl(url));
  if (password.length >= 1) out = out.split(password).join("***");
  return out;
}

/**
 * One PING with a bounded wait, before any BullMQ object exists: BullMQ's
 * clients reconnect forever, so an unreachable Redis would otherwise be a hang.
 */
export async function probeRedis(url: string, timeoutMs: number): Promise<void> {
  const client = new Redis(url, { lazyConnect: true, connectTimeout: timeoutMs, maxRetriesPerRequest: 0, enableOfflineQueue: false, retryStrategy: () => null });
  // Errors arrive as rejections below; without a listener ioredis would also print them.
  client.on("error", () => undefined);
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([
      client.connect().then(() => client.ping()),
      new Promise((_, reject) => {
        timer = setTimeout(() => reject(new Error(`no answer within ${Math.round(timeoutMs / 100) / 10}s`)), timeoutMs);
      }),
    ]);
  } catch (error) {
    throw new QueueUnavailableError(url, error instanceof Error ? error.message : String(error));
  } finally {
    clearTimeout(timer);
    client.disconnect();
  }
}

/**
 * A connection for BullMQ. `giveUpAfterMs`: a connection that stays lost
 * this long ends (its "end" event), so that a build waiting on it fails
 * instead of waiting forever; workers pass nothing and reconnect forever.
 */
export function redisConnection(url: string, options: { connectMs: number; giveUpAfterMs?: number }): Redis {
  let lostSince: number | null = null;
  const redisOptions: RedisOptions = {
    // BullMQ requires it: its blocking commands must wait across reconnections.
    maxRetriesPerRequest: null,
    connectTimeout: options.connectMs,
    retryStrategy: (times) => {
      lostSince ??= Date.now();
      if (options.giveUpAfterMs !== undefined && Date.now() - lostSince > options.giveUpAfterMs) return null;
      return Math.min(times * 200, 2_000);
    },
  };
  const client = new Redis(url, redisOptions);
  client.on("ready", () => (lostSince = null));
  return client;
}
