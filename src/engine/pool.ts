import type { StoredOutput } from "../lock/cache.js";
import type { RemoteRecord } from "../lock/lockfile.js";

/** What making one node left in the cache: enough for another story with the same key to use it. */
export interface MadeNode {
  stored: StoredOutput[];
  meta: Record<string, string | number | boolean>;
  remote?: RemoteRecord;
  /** The farm worker that made it, if one did. */
  worker?: string;
}

/**
 * One pool of render slots shared by the builds of several stories, each
 * running its own executor: at most `size` nodes render at once across all
 * of them, and a node key two stories share (same cache) is made once; the
 * second story waits for it and takes the result.
 */
export class JobPool {
  private active = 0;
  private readonly waiting: Array<() => void> = [];
  private readonly made = new Map<string, Promise<MadeNode>>();

  constructor(readonly size: number) {}

  /** Makes a node unless another story made or is making the same key in the same cache; `shared` says which. */
  async make(cacheKey: string, work: () => Promise<MadeNode>): Promise<MadeNode & { shared: boolean }> {
    const existing = this.made.get(cacheKey);
    if (existing) return { ...(await existing), shared: true };
    const task = this.slot(work);
    this.made.set(cacheKey, task);
    // A failure is not shared with later stories: they try again.
    task.catch(() => this.made.delete(cacheKey));
    return { ...(await task), shared: false };
  }

  private async slot<T>(work: () => Promise<T>): Promise<T> {
    // A finishing job hands its slot to the next waiting one, so there are never more than `size`.
    if (this.active >= this.size) await new Promise<void>((resolve) => this.waiting.push(resolve));
    else this.active++;
    try {
      return await work();
    } finally {
      const next = this.waiting.shift();
      if (next) next();
      else this.active--;
    }
  }
}
