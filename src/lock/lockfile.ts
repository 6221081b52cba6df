import { readFile } from "node:fs/promises";
import writeFileAtomic from "write-file-atomic";

export const LOCKFILE_VERSION = 1;

/** One file a node made, stored in the cache by the sha256 of its bytes. */
export interface LockOutput {
  name: string;
  sha256: string;
  size: number;
  /** Where the bytes are, relative to the project root. */
  cache: string;
}

/** What a cloud renderer knows of a node's remote work: ids and URLs, never a key. */
export type RemoteRecord = Record<string, string | number | boolean>;

export interface LockEntry {
  key: string;
  /** Short hashes of each input, to say what changed when the key does. */
  digests: Record<string, string>;
  outputs: LockOutput[];
  /** Facts about the outputs that downstream nodes read (a narration's length, say). */
  meta?: Record<string, string | number | boolean>;
  remote?: RemoteRecord;
}

/** Paid remote work that was asked for and has not finished: a resumed build polls it instead of paying again. */
export interface PendingEntry {
  key: string;
  remote: RemoteRecord;
}

export interface Lockfile {
  lockfileVersion: typeof LOCKFILE_VERSION;
  /** The story file, relative to the lockfile. */
  story: string;
  renderer: string;
  nodes: Record<string, LockEntry>;
  pending?: Record<string, PendingEntry>;
}

export class LockfileError extends Error {
  constructor(
    readonly file: string,
    message: string,
    readonly hint: string,
    readonly line = 1,
    readonly column = 1,
  ) {
    super(message);
  }
}

export function emptyLockfile(story: string, renderer: string): Lockfile {
  return { lockfileVersion: LOCKFILE_VERSION, story, renderer, nodes: {} };
}

/** Reads a lockfile; a missing one is empty, a damaged one is an error that says where. */
export async function readLockfile(file: string): Promise<Lockfile | null> {
  let text: string;
  try {
    text = await readFile(file, "utf8");
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return null;
    throw error;
  }
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (error) {
    const conflict = /^<{7} /m.test(text);
    const at = /position (\d+)/.exec((error as Error).message);
    const offset = at ? Number(at[1]) : 0;
    const before = text.slice(0, offset).split("\n");
    throw new LockfileError(
      file,
      conflict ? "the lockfile has unresolved merge conflict markers" : "the lockfile is not valid JSON",
      conflict
        ? "resolve the conflict by taking either side (or delete the lockfile): storyc rebuilds what does not match"
        : "delete it to rebuild from the cache, or restore it from git",
      before.length,
      (before.at(-1)?.length ?? 0) + 1,
    );
  }
  const lock = data as Partial<Lockfile>;
  if (lock?.lockfileVersion !== LOCKFILE_VERSION || typeof lock.nodes !== "object" || lock.nodes === null) {
    throw new LockfileError(
      file,
      `the lockfile is not a storyc lockfile of version ${LOCKFILE_VERSION}`,
      "delete it (outputs still in the cache are reused) or upgrade storyc",
    );
  }
  return lock as Lockfile;
}

/** The lockfile as text: keys in a fixed order, nodes sorted, so that a one-scene edit is a small diff. */
export function serializeLockfile(lock: Lockfile): string {
  const nodes: Record<string, LockEntry> = {};
  for (const id of Object.keys(lock.nodes).sort()) {
    const e = lock.nodes[id]!;
    nodes[id] = {
      key: e.key,
      digests: sortKeys(e.digests),
      outputs: [...e.outputs].sort((a, b) => a.name.localeCompare(b.name)).map((o) => ({ name: o.name, sha256: o.sha256, size: o.size, cache: o.cache })),
      ...(e.meta && Object.keys(e.meta).length ? { meta: sortKeys(e.meta) } : {}),
      ...(e.remote && Object.keys(e.remote).length ? { remote: sortKeys(e.remote) } : {}),
    };
  }
  const out: Lockfile = { lockfileVersion: LOCKFILE_VERSION, story: lock.story, renderer: lock.renderer, nodes };
  if (lock.pending && Object.keys(lock.pending).length) {
    out.pending = {};
    for (const id of Object.keys(lock.pending).sort()) {
      const p = lock.pending[id]!;
      out.pending[id] = { key: p.key, remote: sortKeys(p.remote) };
    }
  }
  return JSON.stringify(out, null, 2) + "\n";
}

/** Writes the lockfile with a temporary file and a rename: a reader sees the old or the new one, never half. */
export async function writeLockfile(file: string, lock: Lockfile): Promise<void> {
  await writeFileAtomic(file, serializeLockfile(lock));
}

function sortKeys<T>(record: Record<string, T>): Record<string, T> {
  return Object.fromEntries(Object.keys(record).sort().map((k) => [k, record[k]!]));
}
