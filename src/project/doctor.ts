import { readdir, stat } from "node:fs/promises";
import { join, resolve } from "node:path";
import { locateFfmpeg } from "../render/local/ffmpeg.js";
import { espeakVersion, FFMPEG_NEEDS, fontsFingerprint, probeFfmpegAsync } from "../render/local/toolchain.js";
import { RendererUnavailableError } from "../render/types.js";
import { loadProjectConfig } from "./config.js";
import { findProjectRoot } from "./paths.js";

/** One thing storyc needs, whether this machine has it, and what to do when it does not. */
export interface Check {
  name: string;
  ok: boolean;
  detail: string;
  fix?: string;
}

export interface DoctorReport {
  ok: boolean;
  checks: Check[];
}

const MIN_NODE = [20, 19] as const;

/** Looks at what the local renderer and the project need on this machine. Reads only; changes nothing. */
export async function diagnose(startDir: string, env: NodeJS.ProcessEnv = process.env): Promise<DoctorReport> {
  // The ffmpeg probes and fc-match run side by side.
  const [ffmpeg, fonts] = await Promise.all([ffmpegChecks(env), fontCheck()]);
  const checks: Check[] = [nodeCheck(), ...ffmpeg, fonts, speechCheck()];
  const root = findProjectRoot(resolve(startDir));
  checks.push(await cacheCheck(join(root, ".storyc", "cache")));
  checks.push(await configCheck(root));
  return { ok: checks.every((c) => c.ok), checks };
}

function nodeCheck(): Check {
  const [major, minor] = process.versions.node.split(".").map(Number) as [number, number];
  const ok = major > MIN_NODE[0] || (major === MIN_NODE[0] && minor >= MIN_NODE[1]);
  return {
    name: "node",
    ok,
    detail: `Node.js ${process.versions.node} (storyc needs ${MIN_NODE.join(".")} or newer)`,
    ...(ok ? {} : { fix: `install Node.js ${MIN_NODE.join(".")} or newer` }),
  };
}

async function ffmpegChecks(env: NodeJS.ProcessEnv): Promise<Check[]> {
  let location;
  try {
    location = locateFfmpeg(env);
  } catch (error) {
    if (!(error instanceof RendererUnavailableError)) throw error;
    return [{ name: "ffmpeg", ok: false, detail: error.message, fix: error.hint }];
  }
  const where = `${location.source === "bundled" ? "bundled" : location.source === "PATH" ? "from PATH" : "from STORYC_FFMPEG"}: ${location.path}`;
  const probe = await probeFfmpegAsync(location.path);
  if (!probe) return [{ name: "ffmpeg", ok: false, detail: `${location.path} did not answer -version`, fix: "set STORYC_FFMPEG to a working ffmpeg, or unset it for the bundled one" }];
  const needed = Object.values(FFMPEG_NEEDS).reduce((n, list) => n + list.length, 0);
  return [
    { name: "ffmpeg", ok: true, detail: `ffmpeg ${probe.version} (${where}); build ${probe.build.slice(0, 12)}, part of the keys of clips and videos` },
    probe.missing.length
      ? {
          name: "ffmpeg features",
          ok: false,
          detail: `missing: ${probe.missing.join(", ")}`,
          fix: "use the bundled ffmpeg (unset STORYC_FFMPEG or set it to bundled), or install a full build of ffmpeg 4.4 or newer",
        }
      : { name: "ffmpeg features", ok: true, detail: `all ${needed} filters, encoders, formats and decoders storyc uses` },
  ];
}

async function fontCheck(): Promise<Check> {
  const fingerprint = await fontsFingerprint();
  const files = fingerprint.split(";").map((pick) => pick.split("|")[0]!);
  if (files.some((f) => f === "unknown" || f === "")) {
    return {
      name: "fonts",
      ok: false,
      detail: "fontconfig found no font for the stills' text",
      fix: "install fonts and fontconfig (apt-get install fonts-dejavu-core fontconfig)",
    };
  }
  return { name: "fonts", ok: true, detail: [...new Set(files)].join(", ") };
}

function speechCheck(): Check {
  return { name: "speech", ok: true, detail: `eSpeak NG ${espeakVersion()} (WebAssembly, offline)` };
}

async function cacheCheck(dir: string): Promise<Check> {
  const { files, bytes } = await folderSize(dir);
  return { name: "cache", ok: true, detail: files ? `${dir}: ${formatSize(bytes)} in ${files} files (storyc gc removes what no lockfile uses)` : `${dir}: empty` };
}

async function configCheck(root: string): Promise<Check> {
  const result = await loadProjectConfig(root);
  if (result.ok) {
    const set = Object.entries(result.config).map(([k, v]) => `${k}: ${String(v)}`);
    return { name: "project config", ok: true, detail: set.length ? `${result.file} (${set.join(", ")})` : `${result.file}: none, defaults apply` };
  }
  const first = result.diagnostics[0];
  return {
    name: "project config",
    ok: false,
    detail: first ? `${result.file}:${first.start.line}:${first.start.column}: ${first.message}` : `${result.file} is invalid`,
    fix: first?.hint ?? "fix the file, or remove it to use the defaults",
  };
}

async function folderSize(dir: string): Promise<{ files: number; bytes: number }> {
  let files = 0;
  let bytes = 0;
  const entries = await readdir(dir, { recursive: true, withFileTypes: true }).catch(() => []);
  for (const entry of entries) {
    if (!entry.isFile()) continue;
    const info = await stat(join(entry.parentPath, entry.name)).catch(() => null);
    if (!info) continue;
    files++;
    bytes += info.size;
  }
  return { files, bytes };
}

function formatSize(n: number): string {
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(1)} KiB`;
  if (n < 1024 ** 3) return `${(n / 1024 / 1024).toFixed(1)} MiB`;
  return `${(n / 1024 ** 3).toFixed(2)} GiB`;
}
