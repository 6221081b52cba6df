import { chmod, copyFile, readFile, rename, stat } from "node:fs/promises";
import { join } from "node:path";
import writeFileAtomic from "write-file-atomic";
import { makeDir } from "../project/os-errors.js";
import type { DepOutput } from "../render/types.js";

/**
 * Copies the video's files from the cache to the output folder, named after
 * the story (video.mp4 -> bunny.mp4). A file already there with the same
 * content, as recorded in a small manifest, is left alone so that a no-op
 * build touches nothing. Each copy lands with a rename: never half a video.
 */
export async function materializeOutputs(video: DepOutput, outDir: string, storyName: string): Promise<string[]> {
  await makeDir(outDir);
  const manifestPath = join(outDir, ".storyc-outputs.json");
  const manifest = (await readFile(manifestPath, "utf8").then(JSON.parse).catch(() => ({}))) as Record<string, { source: string; size: number; mtimeMs: number }>;
  const written: string[] = [];
  let changed = false;
  for (const [name, source] of Object.entries(video.files)) {
    const target = join(outDir, name.replace(/^video(?=[.-])/, storyName));
    written.push(target);
    const seen = manifest[target];
    const now = await stat(target).catch(() => null);
    if (seen && now && seen.source === source && seen.size === now.size && seen.mtimeMs === now.mtimeMs) continue;
    const temp = `${target}.${process.pid}.tmp`;
    await copyFile(source, temp);
    await chmod(temp, 0o644);
    await rename(temp, target);
    const after = await stat(target);
    manifest[target] = { source, size: after.size, mtimeMs: after.mtimeMs };
    changed = true;
  }
  if (changed) await writeFileAtomic(manifestPath, JSON.stringify(manifest, null, 2));
  return written;
}
