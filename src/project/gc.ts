import { readdir, readFile, rm, stat } from "node:fs/promises";
import { join } from "node:path";
import { readLockfile } from "../lock/lockfile.js";

export interface GcResult {
  lockfiles: string[];
  kept: number;
  removed: number;
  bytesReclaimed: number;
}

const SKIP = new Set(["node_modules", ".git", ".storyc", "out", "dist"]);

/** Every storyc lockfile below a folder. */
export async function findLockfiles(root: string): Promise<string[]> {
  const found: string[] = [];
  const walk = async (dir: string): Promise<void> => {
    const entries = await readdir(dir, { withFileTypes: true }).catch(() => []);
    await Promise.all(
      entries.map(async (e) => {
        if (e.isDirectory() && !SKIP.has(e.name)) return walk(join(dir, e.name));
        if (e.isFile() && e.name.endsWith(".lock")) {
          const lock = await readLockfile(join(dir, e.name)).catch(() => null);
          if (lock) found.push(join(dir, e.name));
        }
        return undefined;
      }),
    );
  };
  await walk(root);
  return found.sort();
}

export class BuildRunningError extends Error {}

/**
 * Removes cache blobs that no lockfile below the project root references,
 * with the action-cache records and scratch folders that lead nowhere. It
 * refuses to run while a build holds a lock, since a build stores a blob a
 * moment before its lockfile names it.
 */
export async function collectGarbage(projectRoot: string, cacheDir: string): Promise<GcResult> {
  const locks = join(projectRoot, ".storyc", "locks");
  const held = (await readdir(locks).catch(() => [])).filter((f) => f.endsWith(".lock"));
  if (held.length) throw new BuildRunningError(`a build is running (${held.join(", ")})`);

  const lockfiles = await findLockfiles(projectRoot);
  const referenced = new Set<string>();
  for (const file of lockfiles) {
    const lock = await readLockfile(file);
    for (const entry of Object.values(lock?.nodes ?? {})) for (const o of entry.outputs) referenced.add(o.sha256);
  }

  let removed = 0;
  let kept = 0;
  let bytesReclaimed = 0;
  const cas = join(cacheDir, "cas");
  for (const shard of await readdir(cas).catch(() => [])) {
    for (const blob of await readdir(join(cas, shard)).catch(() => [])) {
      if (referenced.has(blob)) {
        kept++;
        continue;
      }
      const path = join(cas, shard, blob);
      bytesReclaimed += (await stat(path).catch(() => ({ size: 0 }))).size;
      await rm(path, { force: true });
      removed++;
    }
  }
  const ac = join(cacheDir, "ac");
  for (const shard of await readdir(ac).catch(() => [])) {
    for (const record of await readdir(join(ac, shard)).catch(() => [])) {
      const path = join(ac, shard, record);
      const text = await readFile(path, "utf8").catch(() => "");
      const outputs = (JSON.parse(text || "{}") as { outputs?: Array<{ sha256: string }> }).outputs ?? [];
      if (!outputs.every((o) => referenced.has(o.sha256))) {
        bytesReclaimed += Buffer.byteLength(text);
        await rm(path, { force: true });
      }
    }
  }
  await rm(join(cacheDir, "tmp"), { recursive: true, force: true });
  return { lockfiles, kept, removed, bytesReclaimed };
}
