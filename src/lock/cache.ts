import { chmod, copyFile, mkdir, readFile, rename, rm, stat, utimes } from "node:fs/promises";
import { randomBytes } from "node:crypto";
import { join, relative } from "node:path";
import writeFileAtomic from "write-file-atomic";
import { sha256File } from "../graph/hash.js";
import type { LockOutput } from "./lockfile.js";

/**
 * Blobs are stamped with this modification time when stored. Any write to a
 * blob moves its mtime, so a stat tells an intact blob from a touched one
 * without reading it; a blob that fails the stat check is hashed in full.
 */
const SEAL_TIME = new Date("2000-01-01T00:00:00Z");

export interface StoredOutput {
  name: string;
  sha256: string;
  size: number;
}

/** What the action cache remembers of a finished node: its outputs and their facts, by node key. */
export interface ActionRecord {
  outputs: StoredOutput[];
  meta?: Record<string, string | number | boolean>;
}

/**
 * The content-addressed store (`cas/`, blobs by the sha256 of their bytes)
 * and the action cache (`ac/`, node key -> outputs), so that reverting an edit
 * or switching renderers back finds what was made before.
 */
export class Cache {
  constructor(
    readonly dir: string,
    /** The project root: lockfiles record blob paths relative to it. */
    readonly projectRoot: string,
  ) {}

  blobPath(sha: string): string {
    return join(this.dir, "cas", sha.slice(0, 2), sha);
  }

  lockOutput(o: StoredOutput): LockOutput {
    return { name: o.name, sha256: o.sha256, size: o.size, cache: relative(this.projectRoot, this.blobPath(o.sha256)).split("\\").join("/") };
  }

  /** Moves (or copies) a file into the store and returns its address. */
  async put(file: string, name: string, options: { move?: boolean } = {}): Promise<StoredOutput> {
    const { sha256, size } = await sha256File(file);
    const target = this.blobPath(sha256);
    if (!(await this.isIntact(sha256, size))) {
      await mkdir(join(this.dir, "cas", sha256.slice(0, 2)), { recursive: true });
      const temp = `${target}.${process.pid}.${randomBytes(4).toString("hex")}.tmp`;
      if (options.move) await rename(file, temp).catch(() => copyFile(file, temp));
      else await copyFile(file, temp);
      await chmod(temp, 0o444);
      await utimes(temp, SEAL_TIME, SEAL_TIME);
      await rename(temp, target);
    } else if (options.move) {
      await rm(file, { force: true });
    }
    return { name, sha256, size };
  }

  /**
   * Whether a blob is present with these bytes. A sealed blob of the right
   * size is trusted on a stat; anything else is hashed, and removed if wrong.
   */
  async isIntact(sha: string, size: number): Promise<boolean> {
    const path = this.blobPath(sha);
    let info;
    try {
      info = await stat(path);
    } catch {
      return false;
    }
    if (info.size !== size) {
      await rm(path, { force: true });
      return false;
    }
    if (info.mtimeMs === SEAL_TIME.getTime()) return true;
    const actual = (await sha256File(path)).sha256;
    if (actual !== sha) {
      await rm(path, { force: true });
      return false;
    }
    await utimes(path, SEAL_TIME, SEAL_TIME).catch(() => undefined);
    return true;
  }

  async allIntact(outputs: readonly StoredOutput[]): Promise<boolean> {
    const checks = await Promise.all(outputs.map((o) => this.isIntact(o.sha256, o.size)));
    return checks.every(Boolean);
  }

  private actionPath(key: string): string {
    return join(this.dir, "ac", key.slice(0, 2), `${key}.json`);
  }

  async getAction(key: string): Promise<ActionRecord | null> {
    try {
      const record = JSON.parse(await readFile(this.actionPath(key), "utf8")) as ActionRecord;
      return Array.isArray(record.outputs) ? record : null;
    } catch {
      return null;
    }
  }

  async putAction(key: string, record: ActionRecord): Promise<void> {
    await mkdir(join(this.dir, "ac", key.slice(0, 2)), { recursive: true });
    // No fsync: an action record lost to a power cut only costs a render; the lockfile is the durable record.
    await writeFileAtomic(this.actionPath(key), JSON.stringify(record), { fsync: false });
  }

  /** A path for one temporary file on the cache's file system (so that storing it is a rename); the caller removes it. */
  async tempFile(label: string): Promise<string> {
    await mkdir(join(this.dir, "tmp"), { recursive: true });
    return join(this.dir, "tmp", `${label.replace(/[^A-Za-z0-9_-]+/g, "_")}-${process.pid}-${randomBytes(4).toString("hex")}`);
  }

  /** A scratch folder for a renderer's work in progress, on the cache's file system so moves are renames. */
  async scratch(label: string): Promise<string> {
    const dir = join(this.dir, "tmp", `${label.replace(/[^A-Za-z0-9_-]+/g, "_")}-${process.pid}-${randomBytes(4).toString("hex")}`);
    await mkdir(dir, { recursive: true });
    return dir;
  }
}
