import pRetry from "p-retry";
import { setTimeout as sleep } from "node:timers/promises";

/**
 * A failure worth trying again (429, 5xx, a reset, a time-out, a garbled answer
 * to a GET), with the wait the server asked for, if any. Anything else thrown
 * by an attempt ends the retries at once.
 */
export class TransientError extends Error {
  constructor(
    readonly reason: string,
    readonly afterMs?: number,
  ) {
    super(reason);
  }
}

export interface RetryOptions {
  attempts: number;
  /** First backoff in ms; doubled each attempt, with jitter (p-retry's exponential backoff). */
  backoffMs: number;
  signal?: AbortSignal | undefined;
  onRetry?: (info: { attempt: number; reason: string; delayMs: number }) => void;
}

/**
 * The one retry mechanism of the cloud renderer (client requests, downloads,
 * paid-request submission): p-retry's exponential backoff with jitter, plus
 * the server's Retry-After when it gives one. Throws the last TransientError
 * when the attempts run out.
 */
export function withRetries<T>(attempt: (n: number) => Promise<T>, options: RetryOptions): Promise<T> {
  return pRetry(attempt, {
    retries: Math.max(0, options.attempts - 1),
    minTimeout: options.backoffMs,
    maxTimeout: Math.max(options.backoffMs, 30_000),
    factor: 2,
    randomize: true,
    ...(options.signal ? { signal: options.signal } : {}),
    shouldRetry: ({ error }) => error instanceof TransientError && !options.signal?.aborted,
    onFailedAttempt: async ({ error, attemptNumber, retriesLeft }) => {
      if (!(error instanceof TransientError) || retriesLeft === 0) return;
      const extra = error.afterMs ?? 0;
      options.onRetry?.({ attempt: attemptNumber, reason: error.reason, delayMs: extra });
      // Honour Retry-After on top of the backoff: the server knows when it can take the request.
      if (extra > 0) await sleep(extra, undefined, options.signal ? { signal: options.signal } : {});
    },
  });
}
