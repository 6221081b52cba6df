import { execFile, spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { mkdirSync, readFileSync, renameSync, statSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { homedir } from "node:os";
import { join } from "node:path";

/**
 * What storyc asks of an ffmpeg. Anything missing is named in the message,
 * so that a user knows which build to install instead of reading a filter
 * graph error halfway through a render.
 */
export const FFMPEG_NEEDS = {
  filters: ["scale", "zoompan", "loop", "setpts", "format", "split", "fade", "overlay", "aformat", "aresample"],
  encoders: ["libx264", "aac"],
  muxers: ["mp4", "adts"],
  demuxers: ["concat", "wav", "mov", "aac"],
  decoders: ["png", "h264", "pcm_s16le"],
} as const;

export interface FfmpegProbe {
  version: string;
  /**
   * sha256 of everything `ffmpeg -version` prints: the version, the build's
   * configuration and the library versions. Two machines with the same
   * package of ffmpeg agree on it; a different build does not.
   */
  build: string;
  /** Capabilities storyc needs that this build lacks, as "filter zoompan", "encoder libx264". */
  missing: string[];
}

const PROBE = { timeout: 15_000, maxBuffer: 8 * 1024 * 1024 };

function run(path: string, args: string[]): string | null {
  const probe = spawnSync(path, ["-hide_banner", ...args], { encoding: "utf8", ...PROBE });
  return probe.status === 0 ? probe.stdout : null;
}

function runAsync(path: string, args: string[]): Promise<string | null> {
  return new Promise((resolve) => execFile(path, ["-hide_banner", ...args], { encoding: "utf8", ...PROBE }, (error, stdout) => resolve(error ? null : stdout)));
}

/** Names in the listing ffmpeg prints for -filters, -encoders, -muxers...: the second column of each row. */
function listed(output: string | null): Set<string> {
  const names = new Set<string>();
  for (const line of (output ?? "").split("\n")) {
    const m = /^\s*[A-Z.|]+\s+(\S+)/.exec(line);
    // Muxer and demuxer rows may name several formats at once: "mov,mp4,m4a,3gp".
    if (m) for (const n of m[1]!.split(",")) names.add(n);
  }
  return names;
}

const LISTINGS = { filters: "filter", encoders: "encoder", muxers: "muxer", demuxers: "demuxer", decoders: "decoder" } as const;
const FLAGS = Object.keys(LISTINGS) as Array<keyof typeof LISTINGS>;

/** The probe from what `-version` and each listing printed (null: it did not answer). */
function probeFrom(versionText: string | null, listings: Array<string | null>): FfmpegProbe | null {
  if (versionText === null) return null;
  const version = /ffmpeg version (\S+)/.exec(versionText)?.[1] ?? "unknown";
  const missing: string[] = [];
  for (const [i, flag] of FLAGS.entries()) {
    const have = listed(listings[i]!);
    for (const need of FFMPEG_NEEDS[flag]) if (!have.has(need)) missing.push(`${LISTINGS[flag]} ${need}`);
  }
  return { version, build: createHash("sha256").update(versionText).digest("hex"), missing };
}

function probeFfmpeg(path: string): FfmpegProbe | null {
  const versionText = run(path, ["-version"]);
  return versionText === null ? null : probeFrom(versionText, FLAGS.map((flag) => run(path, [`-${flag}`])));
}

/** The same probe, its six runs of ffmpeg side by side, while storyc goes on (the synchronous one is the cloud join's). */
export async function probeFfmpegAsync(path: string): Promise<FfmpegProbe | null> {
  const [versionText, ...listings] = await Promise.all([runAsync(path, ["-version"]), ...FLAGS.map((flag) => runAsync(path, [`-${flag}`]))]);
  return probeFrom(versionText!, listings);
}

const FONT_PATTERNS = ["DejaVu Sans", "DejaVu Sans:bold"];
const fcMatch = (pattern: string) => ["-f", "%{file}|%{fontversion}", pattern];

/** The fonts librsvg picks for the stills' text: a new or updated font changes the pixels. */
export async function fontsFingerprint(): Promise<string> {
  const picks = await Promise.all(
    FONT_PATTERNS.map((pattern) => new Promise<string>((resolve) => execFile("fc-match", fcMatch(pattern), { encoding: "utf8", timeout: 10_000 }, (error, stdout) => resolve(error ? "unknown" : stdout.trim())))),
  );
  return picks.join(";");
}

export function espeakVersion(): string {
  const require = createRequire(import.meta.url);
  return (require("espeak-ng/package.json") as { version: string }).version;
}

/** Probes cost a few process starts; they are kept per ffmpeg binary and font configuration, and redone when either changes. */
interface Memo {
  ffmpeg?: Record<string, { stamp: string; probe: FfmpegProbe }>;
  fonts?: { stamp: string; fingerprint: string };
  sharp?: { stamp: string; versions: SharpVersions };
}

type SharpVersions = { vips: string; rsvg: string; pango: string };

const MEMO_FORMAT = 1;

function stamp(paths: string[]): string {
  return paths
    .map((p) => {
      try {
        const s = statSync(p);
        return `${p}:${s.size}:${s.mtimeMs}`;
      } catch {
        return `${p}:-`;
      }
    })
    .join("|");
}

function fontStamp(): string {
  return stamp(["/etc/fonts", "/etc/fonts/conf.d", "/var/cache/fontconfig", "/usr/share/fonts", join(homedir(), ".cache", "fontconfig"), join(homedir(), ".local", "share", "fonts")]);
}

export class ToolchainMemo {
  private memo: Memo;
  private dirty = false;

  constructor(private readonly file: string | null) {
    this.memo = {};
    if (!file) return;
    try {
      const parsed = JSON.parse(readFileSync(file, "utf8")) as Memo & { format?: number };
      if (parsed.format === MEMO_FORMAT) this.memo = parsed;
    } catch {
      // no memo yet, or an unreadable one: probe again
    }
  }

  ffmpeg(path: string): FfmpegProbe | null {
    const known = this.knownProbe(path);
    return known !== undefined ? known : this.rememberProbe(path, probeFfmpeg(path));
  }

  async ffmpegAsync(path: string): Promise<FfmpegProbe | null> {
    const known = this.knownProbe(path);
    return known !== undefined ? known : this.rememberProbe(path, await probeFfmpegAsync(path));
  }

  private knownProbe(path: string): FfmpegProbe | undefined {
    const known = this.memo.ffmpeg?.[path];
    return known && known.stamp === stamp([path]) ? known.probe : undefined;
  }

  private rememberProbe(path: string, probe: FfmpegProbe | null): FfmpegProbe | null {
    if (probe) {
      this.memo.ffmpeg = { ...this.memo.ffmpeg, [path]: { stamp: stamp([path]), probe } };
      this.dirty = true;
    }
    return probe;
  }

  /** The version of an ffmpeg probed before, if the binary is unchanged since. */
  knownVersion(path: string): string | null {
    const known = this.memo.ffmpeg?.[path];
    return known && known.stamp === stamp([path]) ? known.probe.version : null;
  }

  async sharpVersions(read: () => Promise<SharpVersions>): Promise<SharpVersions> {
    const key = sharpStamp();
    if (this.memo.sharp?.stamp === key) return this.memo.sharp.versions;
    const versions = await read();
    this.memo.sharp = { stamp: key, versions };
    this.dirty = true;
    return versions;
  }

  async fonts(): Promise<string> {
    const key = fontStamp();
    if (this.memo.fonts?.stamp === key) return this.memo.fonts.fingerprint;
    const fingerprint = await fontsFingerprint();
    this.memo.fonts = { stamp: key, fingerprint };
    this.dirty = true;
    return fingerprint;
  }

  save(): void {
    if (!this.dirty || !this.file) return;
    try {
      mkdirSync(join(this.file, ".."), { recursive: true });
      const temp = `${this.file}.${process.pid}.tmp`;
      writeFileSync(temp, JSON.stringify({ format: MEMO_FORMAT, ...this.memo }, null, 2));
      renameSync(temp, this.file);
      this.dirty = false;
    } catch {
      // a read-only cache folder only costs the probes next time
    }
  }
}

/** The files of sharp and its libvips as installed: a reinstall or an upgrade changes their stamp. */
function sharpStamp(): string {
  const require = createRequire(import.meta.url);
  const files: string[] = [];
  for (const name of ["sharp", `@img/sharp-${process.platform}-${process.arch}`, `@img/sharp-libvips-${process.platform}-${process.arch}`]) {
    try {
      files.push(require.resolve(`${name}/package.json`));
    } catch {
      files.push(name);
    }
  }
  return stamp(files);
}

/**
 * The stills' drawing stack: libvips, librsvg and the fonts they find. The
 * versions are kept in the memo while sharp's files are unchanged, so that a
 * build with nothing to draw does not load libvips to read them.
 */
export async function stillsToolchain(memo: ToolchainMemo): Promise<{ vips: string; rsvg: string; pango: string; fonts: string }> {
  // fc-match runs while sharp loads.
  const [versions, fonts] = await Promise.all([
    memo.sharpVersions(async () => {
      const { default: sharp } = await import("sharp");
      const v = sharp.versions as Record<string, string | undefined>;
      return { vips: v.vips ?? "unknown", rsvg: v.rsvg ?? "unknown", pango: v.pango ?? "unknown" };
    }),
    memo.fonts(),
  ]);
  return { ...versions, fonts };
}
