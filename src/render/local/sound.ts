import { readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { runFfmpeg } from "./ffmpeg.js";
import { FPS, FRAME_ALIGN, NARRATION_LEAD_IN } from "./layout.js";
import { integratedLoudness } from "./loudness.js";
import { applyGainLimited, duck } from "./mix.js";
import { decodeWav, encodeWav, type Pcm } from "./wav.js";

/**
 * The sound track is made of one piece per segment (the title, each scene),
 * each brought to the loudness target on its own and encoded to AAC on its
 * own, so that an edit to one scene encodes one piece again and the others
 * are reused byte for byte. Three rules make the pieces join seamlessly:
 *
 * - Alignment: at 32 kHz an AAC frame (1024 samples) is 32 ms and a video
 *   frame (1280 samples) 40 ms; every 4 video frames (160 ms) both line up.
 *   Scenes last a multiple of 4 frames (layout.ts), so every piece is a whole
 *   number of AAC frames and the track never drifts from the pictures.
 * - Guards: each piece starts and ends with GUARD samples of exact silence,
 *   more than the 2048 samples an AAC frame's window spans. Every window that
 *   straddles a join then holds zeros on both sides, so the decoder's overlap
 *   from one piece into the next adds exactly nothing, whichever piece came
 *   before: decoding the joined track gives each piece's own samples.
 * - Priming: the encoder's first packet holds only its 1024 samples of
 *   priming delay; it is dropped, and exactly samples / 1024 packets after it
 *   are kept. The packets then start at the piece's first sample.
 *
 * Each piece's bed is the music from its own start (a scene's sound must not
 * depend on where the scene sits), faded in after the leading guard and out
 * before the trailing one: the music takes a short breath at each cut.
 * 32 kHz loses nothing: narration and music are made at 22.05 kHz.
 */
export const SOUND_RATE = 32000;
export const SAMPLES_PER_VIDEO_FRAME = SOUND_RATE / FPS;
const AAC_FRAME = 1024;
const GUARD = 3072;
const BED_FADE = Math.round(0.15 * SOUND_RATE);
const BED_LEVEL = 0.3;
export const LOUDNESS_TARGET = -16;

if ((FRAME_ALIGN * SAMPLES_PER_VIDEO_FRAME) % AAC_FRAME !== 0) throw new Error("scene alignment does not match AAC frames");

export interface PieceInput {
  frames: number;
  /** Narration, placed NARRATION_LEAD_IN after the piece's start. */
  narration?: Pcm;
  /** The music loop, at SOUND_RATE. */
  music?: Float32Array;
}

/** A piece's samples: narration, the bed ducked under it, brought to the loudness target. */
export function mixPiece(input: PieceInput): Float32Array {
  if (input.frames % FRAME_ALIGN !== 0) throw new Error(`a piece of ${input.frames} frames is not a multiple of ${FRAME_ALIGN}`);
  const total = input.frames * SAMPLES_PER_VIDEO_FRAME;
  const mix = new Float32Array(total);
  const inner = total - 2 * GUARD;
  if (inner <= 0) return mix;
  if (input.narration) {
    const speech = resample(input.narration, SOUND_RATE).samples;
    const at = Math.round(NARRATION_LEAD_IN * SOUND_RATE);
    // Scenes last their narration plus a pause, so speech never reaches the trailing guard; cut to it all the same.
    const room = Math.max(0, total - GUARD - at);
    mix.set(speech.subarray(0, room), at);
  }
  if (input.music && input.music.length) {
    const loop = input.music;
    const bed = new Float32Array(total);
    // Outside the fades the envelope is 1: the same samples without two divisions each (integers, so the bounds are exact).
    for (let i = 0, at = 0; i < inner; i++, at = at + 1 === loop.length ? 0 : at + 1) {
      const env = i >= BED_FADE - 1 && i <= inner - BED_FADE ? 1 : Math.min(1, (i + 1) / BED_FADE, (inner - i) / BED_FADE);
      bed[GUARD + i] = BED_LEVEL * env * loop[at]!;
    }
    duck(bed, mix, SOUND_RATE);
    for (let i = 0; i < total; i++) mix[i]! += bed[i]!;
  }
  const loudness = integratedLoudness(mix, SOUND_RATE);
  const gain = Number.isFinite(loudness) ? LOUDNESS_TARGET - loudness : 0;
  const out = applyGainLimited(mix, gain, SOUND_RATE);
  // The limiter's ramp looks a few milliseconds ahead: the guards stay exact zeros all the same.
  out.fill(0, 0, GUARD);
  out.fill(0, total - GUARD);
  return out;
}

/**
 * One piece of the sound track, as the ADTS packets the video joins: a
 * scene's narration over the music (or the title card's music alone), mixed,
 * brought to the loudness target and encoded on its own.
 */
export async function soundPiece(
  ffmpeg: string,
  piece: { frames: number; narration?: string; music?: string },
  dir: string,
  opts: { signal?: AbortSignal },
): Promise<Buffer> {
  const [narration, music] = await Promise.all([piece.narration ? readFile(piece.narration).then(decodeWav) : undefined, piece.music ? musicLoop(piece.music) : undefined]);
  const samples = mixPiece({ frames: piece.frames, ...(narration ? { narration } : {}), ...(music ? { music } : {}) });
  const [encoded] = await encodePieces(ffmpeg, [samples], dir, "sound", opts);
  return encoded!;
}

let lastLoop: { file: string; samples: Promise<Float32Array> } | null = null;

/**
 * The music at the sound's rate. Resampling a loop of half a minute takes a
 * tenth of a second: it is done once for all the pieces a build makes (and
 * storyc watch keeps it for the next edit), by its content-addressed path
 * (the same path is the same bytes).
 */
function musicLoop(file: string): Promise<Float32Array> {
  if (lastLoop?.file !== file) {
    const samples = readFile(file).then((bytes) => resample(decodeWav(bytes), SOUND_RATE).samples);
    lastLoop = { file, samples };
    samples.catch(() => {
      if (lastLoop?.samples === samples) lastLoop = null;
    });
  }
  return lastLoop!.samples;
}

/** The AAC frames of an ADTS stream, each with its header. */
export function adtsFrames(bytes: Buffer): Buffer[] {
  const frames: Buffer[] = [];
  let offset = 0;
  while (offset + 7 <= bytes.length) {
    if (bytes[offset] !== 0xff || (bytes[offset + 1]! & 0xf0) !== 0xf0) throw new Error(`not an ADTS frame at byte ${offset}`);
    const length = ((bytes[offset + 3]! & 0x03) << 11) | (bytes[offset + 4]! << 3) | (bytes[offset + 5]! >> 5);
    if (length < 7 || offset + length > bytes.length) throw new Error(`truncated ADTS frame at byte ${offset}`);
    frames.push(bytes.subarray(offset, offset + length));
    offset += length;
  }
  return frames;
}

/**
 * Encodes pieces to AAC (ADTS), several per ffmpeg process: each output has its
 * own encoder, so a piece's bytes are the same whichever batch it is made in.
 * Returns, for each piece, its packets from its first sample to its last.
 */
export async function encodePieces(ffmpeg: string, pieces: Float32Array[], dir: string, name: string, opts: { signal?: AbortSignal }): Promise<Buffer[]> {
  const inputs: string[] = [];
  const outputs: string[] = [];
  const args: string[] = [];
  for (const [i, samples] of pieces.entries()) {
    const wav = join(dir, `${name}-${i}.wav`);
    await writeFile(wav, encodeWav({ sampleRate: SOUND_RATE, samples }));
    inputs.push("-i", wav);
    const out = join(dir, `${name}-${i}.aac`);
    outputs.push(out);
    // Formats stated, not negotiated: ffmpeg 4.1 to 7 build the same graph. One mono narrator and a
    // mono bed: mono AAC at 96 kb/s carries all of it.
    args.push(
      ...["-map", `${i}:a`, "-af", `aformat=sample_fmts=fltp:sample_rates=${SOUND_RATE}:channel_layouts=mono`],
      ...["-c:a", "aac", "-b:a", "96k", "-flags:a", "+bitexact", "-fflags", "+bitexact", "-f", "adts", out],
    );
  }
  if (pieces.length === 0) return [];
  await runFfmpeg(ffmpeg, [...inputs, ...args], opts);
  return Promise.all(
    outputs.map(async (out, i) => {
      const packets = adtsFrames(await readFile(out));
      const wanted = pieces[i]!.length / AAC_FRAME;
      if (packets.length < wanted + 1) throw new Error(`the AAC encoder gave ${packets.length} packets for ${wanted} frames of sound`);
      return Buffer.concat(packets.slice(1, wanted + 1));
    }),
  );
}

/**
 * Band-limited resampling (a Hann-windowed sinc, 16 zero crossings each side):
 * going from 22.05 to 32 kHz adds no images above the source's band, which
 * linear interpolation would. The rates are in a small ratio (441/640), so the
 * weights of each of the output's phases are computed once. Plain arithmetic:
 * the same samples everywhere.
 */
export function resample(pcm: Pcm, rate: number): Pcm {
  if (pcm.sampleRate === rate) return pcm;
  const src = pcm.samples;
  const g = gcd(pcm.sampleRate, rate);
  const step = pcm.sampleRate / g; // input samples per `phases` output samples
  const phases = rate / g;
  if (phases > 8192) throw new Error(`cannot resample ${pcm.sampleRate} Hz to ${rate} Hz`);
  const cutoff = Math.min(1, phases / step);
  const taps = 2 * Math.ceil(16 / cutoff) + 1;
  const reach = (taps - 1) / 2;
  const table = new Float64Array(phases * taps);
  for (let p = 0; p < phases; p++) {
    const frac = p / phases;
    for (let k = 0; k < taps; k++) {
      const t = k - reach - frac;
      const x = Math.PI * t * cutoff;
      const sinc = x === 0 ? 1 : Math.sin(x) / x;
      const window = Math.abs(t) >= reach + 1 ? 0 : 0.5 + 0.5 * Math.cos((Math.PI * t) / (reach + 1));
      table[p * taps + k] = sinc * window * cutoff;
    }
  }
  const n = Math.floor((src.length * phases) / step);
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    const whole = Math.floor((i * step) / phases);
    const p = i * step - whole * phases;
    const base = p * taps;
    const first = whole - reach;
    let sum = 0;
    // Away from the ends every tap reads a sample: the same sum, in the same order, without a bounds test per tap.
    if (first >= 0 && first + taps <= src.length) {
      for (let k = 0; k < taps; k++) sum += src[first + k]! * table[base + k]!;
    } else {
      for (let k = 0; k < taps; k++) {
        const j = first + k;
        if (j >= 0 && j < src.length) sum += src[j]! * table[base + k]!;
      }
    }
    out[i] = sum;
  }
  return { sampleRate: rate, samples: out };
}

function gcd(a: number, b: number): number {
  return b === 0 ? a : gcd(b, a % b);
}
