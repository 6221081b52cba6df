import { mkdir, rm, stat, writeFile } from "node:fs/promises";
import { dirname, join } from "node:path";
import type { Cache, StoredOutput } from "../lock/cache.js";
import { sha256, sha256File } from "../graph/hash.js";
import { decodeEntry, encodeEntry, type ActionEntry } from "./entry.js";
import { scrub } from "./redact.js";
import { RemoteStoreError, type RemotePath, type RemoteStore } from "./store.js";

/**
 * Why the team cache was not used for something. Each is reported once per
 * build: a cache that is down, slow or refuses writes costs one warning, a
 * bad blob is named once, and the build goes on locally.
 */
export type RemoteCacheWarning =
  | { reason: "unavailable" | "refused"; message: string }
  | { reason: "corrupt"; message: string; sha256: string }
  | { reason: "untrusted"; message: string; key: string };

export interface RemoteCacheStats {
  /** Bytes of blobs and action entries fetched, and sent. */
  downloadedBytes: number;
  uploadedBytes: number;
  /** Blobs fetched and verified, and blobs sent. */
  downloadedBlobs: number;
  uploadedBlobs: number;
}

export interface RemoteCacheOptions {
  /** Read, never write: for untrusted builds (pull requests from forks). */
  readonly?: boolean;
  /** HMAC key for action entries; with it, unsigned or mis-signed entries are ignored. */
  signingKey?: string;
  /** At most this many uploads at once. */
  uploadConcurrency?: number;
  /** Texts that must never appear in a warning (tokens, passwords). */
  secrets?: string[];
  onWarning?: (warning: RemoteCacheWarning) => void;
}

/** The outcome of bringing a node's blobs into the local cache, with the bytes that came down for it. */
export type FetchOutcome = { ok: true; bytes: number } | { ok: false; reason: "missing" | "corrupt" | "unavailable" };

/**
 * The team cache as a build uses it, over any backend: verified downloads,
 * signed action entries, background uploads, and the rule that a failing
 * cache is a warning and never an error. No method throws.
 */
export class RemoteCache {
  readonly stats: RemoteCacheStats = { downloadedBytes: 0, uploadedBytes: 0, downloadedBlobs: 0, uploadedBlobs: 0 };
  readonly readonly: boolean;
  private down = false;
  private writesRefused = false;
  private readonly warned = new Set<string>();
  /** Blobs found corrupt on the server: uploaded again without asking whether they are there. */
  private readonly corrupt = new Set<string>();
  private readonly uploads = new Set<Promise<void>>();
  private readonly slots: Array<() => void> = [];
  private active = 0;

  constructor(
    private readonly store: RemoteStore,
    private readonly options: RemoteCacheOptions = {},
  ) {
    this.readonly = Boolean(options.readonly);
  }

  /** Where the cache is, safe to print. */
  get location(): string {
    return this.store.location;
  }

  /** Whether the cache still answers (false after it failed once in this build). */
  get available(): boolean {
    return !this.down;
  }

  /** The action entry of a node key, if the cache has a valid (and, with a key, signed) one. */
  async getAction(key: string): Promise<ActionEntry | null> {
    const bytes = await this.call(() => this.store.get(`ac/${key}`), null);
    if (!bytes) return null;
    this.stats.downloadedBytes += bytes.length;
    const decoded = decodeEntry(key, bytes, this.options.signingKey);
    if (decoded.ok) return decoded.entry;
    const why = decoded.reason === "malformed" ? "is not a storyc action entry" : decoded.reason === "unsigned" ? "is not signed" : "has a signature made with another key";
    this.warn({ reason: "untrusted", key, message: `ignored action entries of the remote cache that are not trusted (the first, ${key.slice(0, 12)}…, ${why})` }, "untrusted");
    return null;
  }

  /** Whether every blob is in the team cache (a HEAD each; nothing is downloaded). */
  async hasBlobs(outputs: readonly StoredOutput[]): Promise<boolean> {
    const found = await Promise.all(outputs.map((o) => this.call(() => this.store.has(`cas/${o.sha256}`), false)));
    return found.every(Boolean);
  }

  /**
   * Brings the blobs a node needs into the local cache, each checked against
   * its sha256 and size before it is stored. A wrong one is discarded and
   * reported; the caller makes the node again.
   */
  async fetch(outputs: readonly StoredOutput[], cache: Cache): Promise<FetchOutcome> {
    let total = 0;
    for (const o of outputs) {
      if (await cache.isIntact(o.sha256, o.size)) continue;
      if (this.down) return { ok: false, reason: "unavailable" };
      const temp = await cache.tempFile(`remote-${o.sha256.slice(0, 12)}`);
      try {
        const found = await this.call(() => this.store.download(`cas/${o.sha256}`, temp, o.size + 1), false);
        if (!found) return { ok: false, reason: this.down ? "unavailable" : "missing" };
        const got = await sha256File(temp);
        this.stats.downloadedBytes += got.size;
        total += got.size;
        if (got.size !== o.size || got.sha256 !== o.sha256) {
          this.corrupt.add(o.sha256);
          this.warn({ reason: "corrupt", sha256: o.sha256, message: `a blob from the remote cache did not match its sha256 (${o.sha256.slice(0, 12)}…): discarded, the node is made again` }, `corrupt:${o.sha256}`);
          return { ok: false, reason: "corrupt" };
        }
        await cache.put(temp, o.name, { move: true });
        this.stats.downloadedBlobs++;
      } finally {
        await rm(temp, { force: true });
      }
    }
    return { ok: true, bytes: total };
  }

  /**
   * Sends a finished node's blobs, then its action entry, in the background
   * (at most `uploadConcurrency` nodes at once). Blobs go first so that an
   * entry never names a blob the cache lacks. `drain` waits for them all.
   */
  upload(key: string, entry: ActionEntry, cache: Cache): void {
    if (this.readonly || this.down || this.writesRefused) return;
    this.background(async () => {
      if (await this.send(key, entry, cache)) await this.markShared(cache, key);
    });
  }

  /**
   * Offers the team a node this machine already had: built before the cache
   * was configured, or while it was down. A marker in the local cache remembers
   * the nodes this cache has, so that a build asks about each node once, not
   * on every build.
   */
  share(key: string, entry: ActionEntry, cache: Cache): void {
    if (this.readonly || this.down || this.writesRefused) return;
    this.background(async () => {
      if (await stat(this.markerPath(cache, key)).then(() => true, () => false)) return;
      const there = await this.call(() => this.store.has(`ac/${key}`), false);
      if (there || (await this.send(key, entry, cache))) await this.markShared(cache, key);
    });
  }

  /** The blobs the cache lacks, then the entry; whether the entry was stored. */
  private async send(key: string, entry: ActionEntry, cache: Cache): Promise<boolean> {
    if (!(await this.sendBlobs(entry.outputs, cache)) || this.down || this.writesRefused) return false;
    const body = encodeEntry(key, entry, this.options.signingKey);
    if (!(await this.call(() => this.store.put(`ac/${key}`, body).then(() => true), false))) return false;
    this.stats.uploadedBytes += body.length;
    return true;
  }

  /** Sends each blob the cache lacks; whether all of them are there. */
  private async sendBlobs(outputs: readonly StoredOutput[], cache: Cache): Promise<boolean> {
    for (const o of outputs) {
      if (this.down || this.writesRefused) return false;
      const path: RemotePath = `cas/${o.sha256}`;
      if (!this.corrupt.has(o.sha256) && (await this.call(() => this.store.has(path), false))) continue;
      if (this.down) return false;
      // A blob gone from the local cache (gc, a hand) cannot be sent; the entry would name a blob the cache lacks.
      if (!(await cache.isIntact(o.sha256, o.size))) return false;
      if (!(await this.call(() => this.store.upload(path, cache.blobPath(o.sha256), o.size).then(() => true), false))) return false;
      this.corrupt.delete(o.sha256);
      this.stats.uploadedBytes += o.size;
      this.stats.uploadedBlobs++;
    }
    return true;
  }

  /** Markers are per cache location and per signing (a signed cache needs its own entries). */
  private markerPath(cache: Cache, key: string): string {
    const scope = sha256(`${this.store.location}\n${this.options.signingKey ? "signed" : "unsigned"}`).slice(0, 16);
    return join(cache.dir, "shared", scope, key.slice(0, 2), key);
  }

  private async markShared(cache: Cache, key: string): Promise<void> {
    const path = this.markerPath(cache, key);
    await mkdir(dirname(path), { recursive: true });
    await writeFile(path, "");
  }

  private background(work: () => Promise<void>): void {
    const task = this.withSlot(work);
    this.uploads.add(task);
    void task.finally(() => this.uploads.delete(task));
  }

  /**
   * Sends the blobs the cache lacks and says whether every one is there
   * afterwards; awaited, unlike `upload`, for a render farm whose workers
   * read them next. False when the cache is down, read-only or refused.
   */
  async ensureBlobs(outputs: readonly StoredOutput[], cache: Cache): Promise<boolean> {
    if (this.readonly || this.writesRefused) return this.hasBlobs(outputs);
    return (await this.sendBlobs(outputs, cache)) && !this.down;
  }

  /** Waits for every upload started so far. */
  async drain(): Promise<void> {
    while (this.uploads.size) await Promise.all([...this.uploads]);
  }

  async close(): Promise<void> {
    await this.drain();
    await this.store.close().catch(() => undefined);
  }

  /** Runs one request; a failure turns into a warning and the fallback value. */
  private async call<T>(request: () => Promise<T>, fallback: T): Promise<T> {
    if (this.down) return fallback;
    try {
      return await request();
    } catch (error) {
      if (error instanceof RemoteStoreError && error.kind === "refused") {
        this.writesRefused = true;
        this.warn({ reason: "refused", message: `the remote cache refused a write (${error.message}): this build will not write to it` }, "refused");
      } else {
        this.down = true;
        const detail = error instanceof Error ? error.message : String(error);
        this.warn({ reason: "unavailable", message: `the remote cache is not available (${detail}): building without it` }, "unavailable");
      }
      return fallback;
    }
  }

  private warn(warning: RemoteCacheWarning, once: string): void {
    if (this.warned.has(once)) return;
    this.warned.add(once);
    this.options.onWarning?.({ ...warning, message: scrub(warning.message, this.options.secrets ?? []) });
  }

  private async withSlot(work: () => Promise<void>): Promise<void> {
    const limit = this.options.uploadConcurrency ?? 4;
    // A finished upload hands its slot to the next one waiting, so there are never more than `limit`.
    if (this.active >= limit) await new Promise<void>((resolve) => this.slots.push(resolve));
    else this.active++;
    try {
      await work();
    } catch {
      // A local read or an unexpected backend error: an upload never fails a build.
    } finally {
      const next = this.slots.shift();
      if (next) next();
      else this.active--;
    }
  }
}
