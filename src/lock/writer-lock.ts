import { hostname } from "node:os";
import { mkdir, open, readFile, rm, rmdir, stat } from "node:fs/promises";
import { makeDir } from "../project/os-errors.js";
import { dirname } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import pRetry from "p-retry";

/** Who holds a story's build lock. */
export interface LockOwner {
  pid: number;
  host: string;
  command: string;
  since: string;
}

export class LockTimeoutError extends Error {
  constructor(
    readonly file: string,
    readonly owner: LockOwner | null,
  ) {
    super(
      owner
        ? `another storyc (pid ${owner.pid} on ${owner.host}, "${owner.command}", since ${owner.since}) is building this story`
        : "another storyc is building this story",
    );
  }
}

export interface AcquireOptions {
  /** How long to wait for the holder to finish, in milliseconds (0: do not wait). */
  timeoutMs: number;
  command: string;
  /** Called once when the lock is found taken and storyc starts to wait. */
  onWait?: (owner: LockOwner | null) => void;
  signal?: AbortSignal;
}

export interface HeldLock {
  release(): Promise<void>;
}

/**
 * One writer per story. The lock is a file created with O_EXCL holding the
 * owner's pid and host. proper-lockfile was considered: it records no owner
 * and finds a dead holder only after a stale-mtime delay, while storyc must
 * say who holds the lock and take over from a killed build at once.
 *
 * Taking over from a dead holder happens under a second, short-lived mkdir
 * mutex, and re-reads the owner under it, so two processes cannot both take
 * over, and none can remove a lock that a live process has just taken.
 */
export async function acquireWriterLock(file: string, options: AcquireOptions): Promise<HeldLock> {
  // NaN would make the deadline unreachable: a wait that never ends.
  if (!Number.isFinite(options.timeoutMs) || options.timeoutMs < 0) throw new RangeError(`lock timeout must be a finite number of ms, 0 or more, not ${options.timeoutMs}`);
  await makeDir(dirname(file));
  const me: LockOwner = { pid: process.pid, host: hostname(), command: options.command, since: new Date().toISOString() };
  let waited = false;
  try {
    await pRetry(
      async () => {
        // A lock left by a dead holder is taken over at once: that is not a wait.
        for (;;) {
          if (await tryCreate(file, me)) return;
          const owner = await readOwner(file);
          if (owner && isDeadHere(owner)) await takeOver(file, owner);
          // An empty or unreadable lock file older than any write of ours: a crash between create and write.
          else if (owner === null && (await ageMs(file)) > 5_000) await takeOver(file, null);
          else throw new LockBusy(owner);
        }
      },
      {
        retries: Number.POSITIVE_INFINITY,
        minTimeout: 25,
        maxTimeout: 500,
        maxRetryTime: options.timeoutMs,
        ...(options.signal ? { signal: options.signal } : {}),
        shouldRetry: ({ error }) => {
          if (!(error instanceof LockBusy)) return false;
          if (!waited) options.onWait?.(error.owner);
          waited = true;
          return true;
        },
      },
    );
  } catch (error) {
    throw error instanceof LockBusy ? new LockTimeoutError(file, error.owner) : error;
  }
  return { release: () => releaseLock(file, me) };
}

/** The lock is held by a live process: worth waiting for, while the timeout allows. */
class LockBusy extends Error {
  constructor(readonly owner: LockOwner | null) {
    super("the lock is held");
  }
}

async function tryCreate(file: string, owner: LockOwner): Promise<boolean> {
  let handle;
  try {
    handle = await open(file, "wx");
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "EEXIST") return false;
    throw error;
  }
  try {
    await handle.writeFile(JSON.stringify(owner));
  } finally {
    await handle.close();
  }
  return true;
}

async function readOwner(file: string): Promise<LockOwner | null> {
  try {
    const owner = JSON.parse(await readFile(file, "utf8")) as LockOwner;
    return typeof owner.pid === "number" ? owner : null;
  } catch {
    return null;
  }
}

function isDeadHere(owner: LockOwner): boolean {
  if (owner.host !== hostname()) return false;
  if (owner.pid === process.pid) return false;
  try {
    process.kill(owner.pid, 0);
    return false;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === "ESRCH";
  }
}

async function ageMs(file: string): Promise<number> {
  try {
    return Date.now() - (await stat(file)).mtimeMs;
  } catch {
    return 0;
  }
}

async function takeOver(file: string, expected: LockOwner | null): Promise<void> {
  const mutex = `${file}.takeover`;
  try {
    await mkdir(mutex);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== "EEXIST") throw error;
    // Someone else is taking over; a mutex left by a crash mid-takeover is cleared once old.
    if ((await ageMs(mutex)) > 10_000) await rmdir(mutex).catch(() => undefined);
    await sleep(20);
    return;
  }
  try {
    const current = await readOwner(file);
    const same = expected === null ? current === null : current?.pid === expected.pid && current.host === expected.host && current.since === expected.since;
    if (same) await rm(file, { force: true });
  } finally {
    await rmdir(mutex).catch(() => undefined);
  }
}

async function releaseLock(file: string, me: LockOwner): Promise<void> {
  const owner = await readOwner(file);
  if (owner?.pid === me.pid && owner.since === me.since) await rm(file, { force: true });
}
