import { isDeepStrictEqual } from "node:util";
import { emptyLockfile, LOCKFILE_VERSION, type Lockfile } from "./lockfile.js";

export interface LockMerge {
  lock: Lockfile;
  /** Entries changed differently on both sides: dropped, so the next build makes them again. */
  dropped: string[];
}

/**
 * A three-way merge of lockfiles, entry by entry: an entry one side changed
 * takes that side; an entry both sides changed the same way is kept; an entry
 * both changed differently is dropped (a lockfile entry is a cache record:
 * losing one costs a render or a cache hit, never a wrong video). There are
 * never conflict markers.
 */
export function mergeLockfiles(base: Lockfile | null, ours: Lockfile, theirs: Lockfile): LockMerge {
  const dropped: string[] = [];
  const nodes = mergeRecords(base?.nodes ?? {}, ours.nodes, theirs.nodes, dropped);
  const pending = mergeRecords(base?.pending ?? {}, ours.pending ?? {}, theirs.pending ?? {}, []);
  const pick = <K extends "story" | "renderer">(field: K) => (ours[field] === base?.[field] ? theirs[field] : ours[field]);
  const lock: Lockfile = { ...emptyLockfile(pick("story"), pick("renderer")), lockfileVersion: LOCKFILE_VERSION, nodes };
  if (Object.keys(pending).length) lock.pending = pending;
  return { lock, dropped: dropped.sort() };
}

function mergeRecords<T>(base: Record<string, T>, ours: Record<string, T>, theirs: Record<string, T>, dropped: string[]): Record<string, T> {
  const out: Record<string, T> = {};
  for (const id of new Set([...Object.keys(ours), ...Object.keys(theirs)])) {
    const [o, a, b] = [base[id], ours[id], theirs[id]];
    let merged: T | undefined;
    if (isDeepStrictEqual(a, b)) merged = a;
    else if (isDeepStrictEqual(a, o)) merged = b; // only theirs changed it (or removed it)
    else if (isDeepStrictEqual(b, o)) merged = a; // only ours did
    else {
      dropped.push(id);
      continue;
    }
    if (merged !== undefined) out[id] = merged;
  }
  return out;
}
