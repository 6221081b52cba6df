import { spawnSync } from "node:child_process";
import { accessSync, chmodSync, constants } from "node:fs";
import { createRequire } from "node:module";
import { delimiter, join } from "node:path";
import { RendererUnavailableError } from "../types.js";
import { launch } from "./launcher.js";

export interface FfmpegLocation {
  path: string;
  source: "STORYC_FFMPEG" | "PATH" | "bundled";
  version: string;
}

/**
 * Which ffmpeg renders. The default is the static build shipped in
 * @ffmpeg-installer/ffmpeg: pinned by the package lock, it makes the same
 * bytes on every machine of the platform, so a team shares its outputs.
 * STORYC_FFMPEG chooses another: "bundled", "system" (the first ffmpeg on
 * PATH) or a path. Without a bundled build for the platform, PATH is used.
 * npm may not run the bundled package's install script, so its binary can
 * lack the run bit; it is given one here. `knownVersion` names binaries already
 * known to work (see ToolchainMemo), which are then not run to check.
 */
export function locateFfmpeg(env: NodeJS.ProcessEnv = process.env, knownVersion?: (path: string) => string | null): FfmpegLocation {
  const tried: string[] = [];
  const choice = env.STORYC_FFMPEG?.trim() ?? "";
  const bundled = (): Array<{ path: string; source: FfmpegLocation["source"] }> => {
    try {
      const require = createRequire(import.meta.url);
      return [{ path: (require("@ffmpeg-installer/ffmpeg") as { path: string }).path, source: "bundled" }];
    } catch {
      tried.push("the bundled ffmpeg (@ffmpeg-installer/ffmpeg has no build for this platform, or is not installed)");
      return [];
    }
  };
  const onPath = (name = "ffmpeg") =>
    (env.PATH ?? "")
      .split(delimiter)
      .filter(Boolean)
      .map((dir) => ({ path: join(dir, name), source: "PATH" as const }));
  const candidates =
    choice === "" ? [...bundled(), ...onPath()]
    : choice === "bundled" ? bundled()
    : choice === "system" ? onPath()
    : choice.includes("/") || choice.includes("\\") ? [{ path: choice, source: "STORYC_FFMPEG" as const }]
    : onPath(choice);
  for (const candidate of candidates) {
    if (candidate.source === "PATH") {
      try {
        accessSync(candidate.path, constants.F_OK);
      } catch {
        continue;
      }
    }
    if (candidate.source === "bundled") {
      try {
        accessSync(candidate.path, constants.X_OK);
      } catch {
        try {
          chmodSync(candidate.path, 0o755);
        } catch {
          // reported below when it fails to run
        }
      }
    }
    // A binary that answered before and has not changed since (same size and time) is not started again:
    // a build with nothing to do then starts no process at all.
    const known = knownVersion?.(candidate.path);
    if (known) return { ...candidate, version: known };
    const probe = spawnSync(candidate.path, ["-hide_banner", "-version"], { encoding: "utf8", timeout: 10_000 });
    if (probe.status === 0) {
      const version = /ffmpeg version (\S+)/.exec(probe.stdout)?.[1] ?? "unknown";
      return { ...candidate, version };
    }
    tried.push(`${candidate.path} (${candidate.source}: ${probe.error?.message ?? `exit ${probe.status}`})`);
  }
  if (choice && !["bundled", "system"].includes(choice) && tried.length === 0) tried.push(`${choice} (STORYC_FFMPEG: not found on PATH)`);
  throw new RendererUnavailableError(
    `no working ffmpeg found${tried.length ? `; tried ${tried.join(", ")}` : ""}`,
    choice
      ? "set STORYC_FFMPEG to bundled, system or the path of an ffmpeg 4.4 or newer, or unset it"
      : "run npm install to get the bundled ffmpeg, or install ffmpeg 4.4 or newer (apt-get install ffmpeg) and set STORYC_FFMPEG=system",
  );
}

export class FfmpegError extends Error {}

/**
 * Runs ffmpeg. On abort it is asked to stop with SIGTERM, which ffmpeg
 * handles by finishing its current write and exiting; SIGKILL follows only
 * if it does not within two seconds.
 */
export function runFfmpeg(ffmpeg: string, args: string[], options: { signal?: AbortSignal; onProgress?: (seconds: number) => void } = {}): Promise<string> {
  return new Promise((resolve, reject) => {
    options.signal?.throwIfAborted();
    const full = ["-hide_banner", "-nostdin", "-loglevel", "error", "-y", ...(options.onProgress ? ["-progress", "pipe:1", "-nostats"] : []), ...args];
    let stderr = "";
    let stdout = "";
    let killTimer: NodeJS.Timeout | undefined;
    const onAbort = () => {
      child.kill("SIGTERM");
      killTimer = setTimeout(() => child.kill("SIGKILL"), 2000);
    };
    const done = () => {
      options.signal?.removeEventListener("abort", onAbort);
      if (killTimer) clearTimeout(killTimer);
    };
    const child = launch(ffmpeg, full, {
      stderr: (text) => {
        stderr += text;
        if (stderr.length > 64_000) stderr = stderr.slice(-32_000);
      },
      stdout: (text) => {
        if (options.onProgress) {
          for (const m of text.matchAll(/out_time_ms=(\d+)/g)) options.onProgress(Number(m[1]) / 1e6);
        } else {
          stdout += text;
        }
      },
      error: (message) => {
        done();
        reject(new FfmpegError(`ffmpeg could not start: ${message}`));
      },
      close: (code, signal) => {
        done();
        if (options.signal?.aborted) return reject(options.signal.reason ?? new Error("aborted"));
        if (code === 0) return resolve(stdout + stderr);
        reject(new FfmpegError(`ffmpeg failed (${signal ?? `exit ${code}`}): ${stderr.trim().split("\n").slice(-3).join(" / ")}`));
      },
    });
    options.signal?.addEventListener("abort", onAbort, { once: true });
  });
}
