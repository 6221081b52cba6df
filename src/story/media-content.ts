import { open, stat } from "node:fs/promises";

/** Limits on the files a story names: beyond them a render is slow or runs out of memory, and no picture needs more. */
export const MEDIA_LIMITS = {
  imageBytes: 25 * 1024 * 1024,
  audioBytes: 100 * 1024 * 1024,
  /** Longest side of a reference picture, in pixels. */
  imageSide: 12_000,
  imageMinSide: 16,
} as const;

export type MediaUse = "image" | "audio";

export type MediaVerdict = { ok: true; format: string } | { ok: false; code: "media-empty" | "media-too-large" | "media-wrong-content"; message: string; hint: string };

const IMAGE_FORMATS: Array<{ format: string; test: (b: Buffer) => boolean }> = [
  { format: "png", test: (b) => b.subarray(0, 8).equals(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a])) },
  { format: "jpeg", test: (b) => b[0] === 0xff && b[1] === 0xd8 && b[2] === 0xff },
  { format: "webp", test: (b) => b.toString("ascii", 0, 4) === "RIFF" && b.toString("ascii", 8, 12) === "WEBP" },
  { format: "gif", test: (b) => /^GIF8[79]a/.test(b.toString("ascii", 0, 6)) },
  { format: "avif", test: (b) => b.toString("ascii", 4, 8) === "ftyp" && /^avi[fs]/.test(b.toString("ascii", 8, 12)) },
  { format: "tiff", test: (b) => ["II*\0", "MM\0*"].includes(b.toString("latin1", 0, 4)) },
];

const AUDIO_FORMATS: Array<{ format: string; test: (b: Buffer) => boolean }> = [
  { format: "wav", test: (b) => b.toString("ascii", 0, 4) === "RIFF" && b.toString("ascii", 8, 12) === "WAVE" },
  { format: "mp3", test: (b) => b.toString("ascii", 0, 3) === "ID3" || (b[0] === 0xff && (b[1]! & 0xe0) === 0xe0 && (b[1]! & 0x06) !== 0) },
  { format: "ogg", test: (b) => b.toString("ascii", 0, 4) === "OggS" },
  { format: "flac", test: (b) => b.toString("ascii", 0, 4) === "fLaC" },
  { format: "m4a", test: (b) => b.toString("ascii", 4, 8) === "ftyp" && /^(M4A |M4B |mp4[12]|isom|dash)/.test(b.toString("ascii", 8, 12)) },
  { format: "aiff", test: (b) => b.toString("ascii", 0, 4) === "FORM" && /^AIF[FC]/.test(b.toString("ascii", 8, 12)) },
];

/** What a file's first bytes say it is, for a message about a file that is not what its use needs. */
function describe(head: Buffer): string {
  if (head.subarray(0, 4).equals(Buffer.from([0x7f, 0x45, 0x4c, 0x46]))) return "an executable (ELF)";
  if (head.toString("ascii", 0, 2) === "MZ") return "a Windows executable";
  if (head.toString("ascii", 0, 2) === "#!") return "a script";
  if (head.toString("ascii", 0, 4) === "%PDF") return "a PDF document";
  if (head.subarray(0, 4).equals(Buffer.from([0x50, 0x4b, 0x03, 0x04]))) return "a zip archive";
  if (/^\s*<(\?xml|svg)/i.test(head.toString("utf8"))) return "SVG or XML text (draw it to PNG first)";
  const image = IMAGE_FORMATS.find((f) => f.test(head));
  if (image) return `a ${image.format.toUpperCase()} image`;
  const audio = AUDIO_FORMATS.find((f) => f.test(head));
  if (audio) return `${audio.format.toUpperCase()} audio`;
  const printable = [...head].filter((c) => c === 9 || c === 10 || c === 13 || (c >= 32 && c < 127) || c >= 128).length;
  return printable > head.length * 0.95 ? "text" : "data of no format storyc knows";
}

/**
 * Checks that a local file is what its field needs (a picture for image_url,
 * sound for music_url) by its content, not its name, and within the limits.
 * Pictures are also opened to read their size, which catches a truncated or
 * corrupt header.
 */
export async function checkMediaContent(path: string, use: MediaUse): Promise<MediaVerdict> {
  const info = await stat(path);
  const noun = use === "image" ? "picture" : "sound file";
  if (info.size === 0) return { ok: false, code: "media-empty", message: "the file is empty", hint: `replace it with a ${noun}` };
  const limit = use === "image" ? MEDIA_LIMITS.imageBytes : MEDIA_LIMITS.audioBytes;
  if (info.size > limit) {
    return {
      ok: false,
      code: "media-too-large",
      message: `the file is ${mb(info.size)}, more than the ${mb(limit)} a ${noun} may have`,
      hint: use === "image" ? "scale it down (1920 pixels on the long side is plenty) or save it as JPEG" : "shorten it or save it compressed (MP3, OGG or M4A)",
    };
  }
  const handle = await open(path, "r");
  const head = Buffer.alloc(Math.min(64, info.size));
  try {
    await handle.read(head, 0, head.length, 0);
  } finally {
    await handle.close();
  }
  const formats = use === "image" ? IMAGE_FORMATS : AUDIO_FORMATS;
  const match = formats.find((f) => f.test(head));
  if (!match) {
    return {
      ok: false,
      code: "media-wrong-content",
      message: `the file is ${describe(head)}, not a ${noun}`,
      hint: use === "image" ? "name a PNG, JPEG, WebP, GIF, AVIF or TIFF picture" : "name a WAV, MP3, OGG, FLAC, M4A or AIFF sound file",
    };
  }
  if (use === "image") {
    const { default: sharp } = await import("sharp");
    try {
      const meta = await sharp(path, { limitInputPixels: MEDIA_LIMITS.imageSide ** 2 }).metadata();
      const w = meta.width ?? 0;
      const h = meta.height ?? 0;
      if (Math.max(w, h) > MEDIA_LIMITS.imageSide || Math.min(w, h) < MEDIA_LIMITS.imageMinSide) {
        return {
          ok: false,
          code: "media-too-large",
          message: `the picture is ${w}x${h} pixels; storyc takes ${MEDIA_LIMITS.imageMinSide} to ${MEDIA_LIMITS.imageSide} pixels a side`,
          hint: "scale it to a size in that range (1920 pixels on the long side is plenty)",
        };
      }
    } catch {
      return { ok: false, code: "media-wrong-content", message: `the file starts like a ${match.format.toUpperCase()} picture but cannot be read as one`, hint: "save it again from an image editor" };
    }
  }
  return { ok: true, format: match.format };
}

function mb(bytes: number): string {
  return `${(bytes / 1024 / 1024).toFixed(1)} MB`;
}
