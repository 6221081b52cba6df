import { spawnSync } from "node:child_process";
import { join } from "node:path";
import { locateFfmpeg } from "../local/ffmpeg.js";
import { ToolchainMemo } from "../local/toolchain.js";
import { RendererUnavailableError } from "../types.js";

/**
 * Revision of the crossfade join, in the key of every crossfaded cloud video:
 * bumped whenever a change to join.ts changes the bytes it makes. The
 * renderer's own version stays, so that no paid clip is keyed anew.
 */
export const JOIN_REVISION = "crossfade-join/2";

/** What the crossfade join asks of an ffmpeg, beyond running at all. */
export const JOIN_NEEDS = {
  filters: ["fps", "scale", "pad", "setsar", "format", "trim", "setpts", "split", "fade", "overlay", "concat", "aresample", "aformat", "apad", "atrim", "asetpts", "acrossfade", "anullsrc", "asplit", "volume", "afade", "sidechaincompress", "amix", "loudnorm"],
  encoders: ["libx264", "aac"],
} as const;

/** The ffmpeg that joins cloud clips, as the key names it. */
export interface JoinFfmpeg {
  path: string;
  version: string;
  /** sha256 of what `ffmpeg -version` prints: the build, its configuration and libraries. */
  build: string;
}

/**
 * Finds and identifies the ffmpeg a crossfade join would run, once per
 * renderer and only when a story asks for one: a cut story never starts it.
 * The same binary (STORYC_FFMPEG, or the bundled build) as the local renderer,
 * identified through the same probe memo, so both key it alike.
 */
export class JoinToolchain {
  private found: JoinFfmpeg | RendererUnavailableError | undefined;
  private checked: RendererUnavailableError | null | undefined;

  constructor(
    private readonly env: NodeJS.ProcessEnv,
    private readonly cacheDir?: string,
  ) {}

  /** The ffmpeg, or why there is none: never throws, so a plan can say it. */
  ffmpeg(): JoinFfmpeg | RendererUnavailableError {
    if (this.found) return this.found;
    const memo = new ToolchainMemo(this.cacheDir ? join(this.cacheDir, "toolchain.json") : null);
    try {
      const located = locateFfmpeg(this.env, (path) => memo.knownVersion(path));
      const probe = memo.ffmpeg(located.path);
      this.found = probe
        ? { path: located.path, version: probe.version, build: probe.build }
        : new RendererUnavailableError(`${located.path} did not answer -version`, "check that this ffmpeg runs, or set STORYC_FFMPEG to another one");
    } catch (error) {
      if (!(error instanceof RendererUnavailableError)) throw error;
      this.found = error;
    }
    memo.save();
    return this.found;
  }

  /** What identifies the join's tools in a key: "none" when no ffmpeg is usable (the review then stops the build). */
  keyPart(): unknown {
    const ffmpeg = this.ffmpeg();
    return { join: JOIN_REVISION, ffmpeg: ffmpeg instanceof Error ? "none" : { version: ffmpeg.version, build: ffmpeg.build } };
  }

  /** Why this machine cannot join clips with crossfades, or null when it can. */
  unusable(): RendererUnavailableError | null {
    if (this.checked !== undefined) return this.checked;
    const ffmpeg = this.ffmpeg();
    if (ffmpeg instanceof Error) return (this.checked = ffmpeg);
    const missing: string[] = [];
    for (const [flag, noun] of [["filters", "filter"], ["encoders", "encoder"]] as const) {
      const have = listed(spawnSync(ffmpeg.path, ["-hide_banner", `-${flag}`], { encoding: "utf8", timeout: 15_000, maxBuffer: 8 * 1024 * 1024 }).stdout ?? "");
      for (const need of JOIN_NEEDS[flag]) if (!have.has(need)) missing.push(`${noun} ${need}`);
    }
    this.checked = missing.length
      ? new RendererUnavailableError(
          `the ffmpeg at ${ffmpeg.path} (${ffmpeg.version}) lacks what a crossfade join needs: ${missing.join(", ")}`,
          "use the bundled ffmpeg (unset STORYC_FFMPEG or set it to bundled), or install a full build of ffmpeg",
        )
      : null;
    return this.checked;
  }
}

/** Names in the listing ffmpeg prints for -filters or -encoders: the second column of each row. */
function listed(output: string): Set<string> {
  const names = new Set<string>();
  for (const line of output.split("\n")) {
    const m = /^\s*[A-Z.|]+\s+(\S+)/.exec(line);
    if (m) names.add(m[1]!);
  }
  return names;
}
