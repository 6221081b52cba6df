import { realpath, stat } from "node:fs/promises";
import { isAbsolute, relative, resolve, sep } from "node:path";

export type MediaLocation =
  | { kind: "remote"; url: string }
  | { kind: "local"; path: string }
  | { kind: "invalid"; reason: "unsupported-url" | "path-escape" | "missing-file"; message: string; hint: string };

/**
 * Where an image_url or music_url points: an http(s) URL, or a file inside the
 * story's folder. Everything else is refused, so that a story renders the same
 * on every machine and cannot read files outside its own repository.
 */
export async function locateMedia(value: string, storyDir: string): Promise<MediaLocation> {
  const scheme = /^([a-z][a-z0-9+.-]*):/i.exec(value)?.[1];
  if (scheme && !/^[a-z]$/i.test(scheme)) {
    if (/^https?$/i.test(scheme)) {
      try {
        const url = new URL(value);
        if (url.hostname) return { kind: "remote", url: url.href };
      } catch {
        // reported below
      }
      return { kind: "invalid", reason: "unsupported-url", message: `${JSON.stringify(value)} is not a valid URL`, hint: "write a full URL such as https://example.com/image.png" };
    }
    return {
      kind: "invalid",
      reason: "unsupported-url",
      message: `${scheme}: URLs are not supported`,
      hint: "use a path relative to the story's folder (refs/image.png) or an http(s) URL",
    };
  }
  if (isAbsolute(value) || /^[a-z]:[\\/]/i.test(value) || value.startsWith("~")) {
    return {
      kind: "invalid",
      reason: "path-escape",
      message: `${JSON.stringify(value)} is an absolute path, which would not exist on another machine`,
      hint: "copy the file into the story's folder and give its path relative to the story",
    };
  }
  const base = resolve(storyDir);
  const target = resolve(base, value);
  if (escapes(base, target)) return escapeError(value);
  let info;
  try {
    info = await stat(target);
  } catch {
    return { kind: "invalid", reason: "missing-file", message: `${JSON.stringify(value)} does not exist`, hint: "check the path; it is relative to the story's folder" };
  }
  if (!info.isFile()) {
    return { kind: "invalid", reason: "missing-file", message: `${JSON.stringify(value)} is not a file`, hint: "name an image or audio file" };
  }
  // A symbolic link inside the folder may still lead outside it.
  const [realBase, realTarget] = await Promise.all([realpath(base), realpath(target)]);
  if (escapes(realBase, realTarget)) return escapeError(value);
  return { kind: "local", path: target };
}

function escapes(base: string, target: string): boolean {
  const rel = relative(base, target);
  return rel === "" || rel === ".." || rel.startsWith(".." + sep) || isAbsolute(rel);
}

function escapeError(value: string): MediaLocation {
  return {
    kind: "invalid",
    reason: "path-escape",
    message: `${JSON.stringify(value)} points outside the story's folder`,
    hint: "copy the file into the story's folder (or a folder below it) and refer to it from there",
  };
}
