import { SOUND_RATE } from "./sound.js";
import type { Pcm } from "./wav.js";

/** The sound track's own rate: the bed needs no resampling under each scene. */
export const MUSIC_RATE = SOUND_RATE;

/** How a music description is heard: tempo, mode and which instruments play. */
export interface MusicStyle {
  bpm: number;
  minor: boolean;
  pad: boolean;
  piano: boolean;
  pluck: boolean;
  flute: boolean;
  drums: boolean;
  brass: boolean;
}

const has = (text: string, words: string) => new RegExp(`\\b(${words})`, "i").test(text);

export function musicStyle(description: string): MusicStyle {
  const d = description.toLowerCase();
  const fast = has(d, "upbeat|lively|fast|energetic|playful|cheerful|bouncy|adventurous");
  const slow = has(d, "calm|slow|gentle|soft|peaceful|serene|relaxed|ambient|tender");
  const tense = has(d, "tense|suspense|dark|ominous|mysterious|dramatic");
  const bpm = fast ? 124 : tense ? 96 : slow ? 72 : 100;
  const minor = has(d, "minor|sad|melanchol|tense|dark|ominous|mysterious|somber") && !has(d, "major");
  const pluck = has(d, "playful|ukulele|guitar|pluck|pizzicato|harp|whimsical");
  const piano = has(d, "piano|keys");
  const flute = has(d, "flute|whistle|woodwind|melod");
  const drums = has(d, "percussion|drum|beat|upbeat|march|rhythm");
  const brass = has(d, "brass|trumpet|horn|fanfare");
  const pad = has(d, "orchestral|strings|string|pad|ambient|cinematic|synth|electronic") || !(pluck || piano || flute || brass);
  return { bpm, minor, pad, piano, pluck, flute, drums, brass };
}

const midiHz = (m: number) => 440 * 2 ** ((m - 69) / 12);

/**
 * Eight bars of loopable background music synthesised from a description:
 * a I-V-vi-IV (or i-VI-III-VII) progression with the instruments its words
 * name. Deterministic: the same description makes the same samples.
 */
export function synthesizeMusic(description: string): Pcm {
  const steps = musicSteps(description);
  for (;;) {
    const step = steps.next();
    if (step.done) return step.value;
  }
}

/**
 * The same music, handing the thread back after each bar: synthesis takes about
 * half a second of storyc's one thread, during which the stills drawn beside it
 * (in libvips's threads) could not be collected, nor the encodes waiting for them
 * started.
 */
export async function synthesizeMusicYielding(description: string): Promise<Pcm> {
  const steps = musicSteps(description);
  for (;;) {
    const step = steps.next();
    if (step.done) return step.value;
    await new Promise((resolve) => setImmediate(resolve));
  }
}

function* musicSteps(description: string): Generator<void, Pcm> {
  const style = musicStyle(description);
  const rate = MUSIC_RATE;
  const beat = 60 / style.bpm;
  const bars = 8;
  const length = Math.round(bars * 4 * beat * rate);
  // One extra bar of tails, folded back onto the start so that the loop is seamless.
  const out = new Float32Array(length + Math.round(4 * beat * rate));
  const root = style.minor ? 57 : 60;
  const progression = style.minor
    ? [[0, 3, 7], [8, 12, 15], [3, 7, 10], [10, 14, 17]]
    : [[0, 4, 7], [7, 11, 14], [9, 12, 16], [5, 9, 12]];
  let seed = 0x2f6e2b1;
  for (const c of description) seed = (seed * 33 + c.charCodeAt(0)) >>> 0;
  const noise = () => ((seed = (seed * 1664525 + 1013904223) >>> 0) / 2 ** 31 - 1);

  // Oscillators by recurrence, not a sine per sample and harmonic: the carrier turns by a fixed rotation
  // each sample, its harmonics follow from sin(kx) = 2cos(x)sin((k-1)x) - sin((k-2)x), and the decay is a
  // fixed factor a sample. Plain arithmetic, the same on every machine, a third of the time.
  const tone = (start: number, dur: number, hz: number, amp: number, shape: { attack: number; decay: number; harmonics: number[]; vibrato?: number }) => {
    const s0 = Math.round(start * rate);
    const n = Math.round(dur * rate);
    const end = Math.min(n, out.length - s0);
    const attack = shape.attack * rate;
    const fade = 0.05 * rate;
    const fall = Math.exp(-shape.decay / rate);
    const harmonics = shape.harmonics;
    const vibrato = shape.vibrato ?? 0;
    const turn = (2 * Math.PI * hz) / rate;
    const cosTurn = Math.cos(turn);
    const sinTurn = Math.sin(turn);
    let sin = 0;
    let cos = 1;
    let decay = 1;
    // Between the attack and the fade both ramps are 1 and the envelope is the decay alone: the same number,
    // without two divisions a sample. The bounds are found with the ramps' own arithmetic.
    let attacked = 0;
    while (attacked < end && attacked / attack < 1) attacked++;
    let fading = Math.max(attacked, Math.floor(n - fade));
    while (fading < end && (n - fading) / fade >= 1) fading++;
    for (let i = 0; i < end; i++) {
      const env = i >= attacked && i < fading ? decay : Math.min(1, i / attack) * decay * Math.min(1, (n - i) / fade);
      let x = sin;
      let twoCos = 2 * cos;
      if (vibrato) {
        // A slight pitch wobble: the phase is computed directly, as the carrier no longer turns evenly.
        const t = i / rate;
        const phase = 2 * Math.PI * hz * (1 + vibrato * Math.sin(2 * Math.PI * 5 * t)) * t;
        x = Math.sin(phase);
        twoCos = 2 * Math.cos(phase);
      }
      let previous = 0;
      let current = x;
      let v = harmonics[0]! * x;
      for (let h = 1; h < harmonics.length; h++) {
        const next = twoCos * current - previous;
        previous = current;
        current = next;
        v += harmonics[h]! * current;
      }
      out[s0 + i]! += amp * env * v;
      const turned = sin * cosTurn + cos * sinTurn;
      cos = cos * cosTurn - sin * sinTurn;
      sin = turned;
      decay *= fall;
    }
  };

  for (let bar = 0; bar < bars; bar++) {
    const chord = progression[bar % 4]!.map((x) => root + x);
    const t0 = bar * 4 * beat;
    if (style.pad) for (const m of chord) tone(t0, 4 * beat + 0.3, midiHz(m), 0.05, { attack: 0.4, decay: 0.15, harmonics: [1, 0.5, 0.3, 0.15] });
    if (style.brass) for (const m of chord) tone(t0, 2 * beat, midiHz(m), 0.045, { attack: 0.05, decay: 0.6, harmonics: [1, 0.8, 0.6, 0.4, 0.2] });
    if (style.piano) for (const m of chord) tone(t0, 4 * beat, midiHz(m + 12), 0.06, { attack: 0.005, decay: 1.4, harmonics: [1, 0.4, 0.2, 0.1] });
    for (const b of [0, 2]) tone(t0 + b * beat, beat * 1.5, midiHz(chord[0]! - 12), 0.12, { attack: 0.01, decay: 2.2, harmonics: [1, 0.3] });
    if (style.pluck || (!style.piano && !style.flute)) {
      for (let e = 0; e < 8; e++) {
        const m = chord[[0, 1, 2, 1, 0, 2, 1, 2][e]!]! + 12;
        tone(t0 + e * (beat / 2), beat * 0.9, midiHz(m), 0.05, { attack: 0.003, decay: 5, harmonics: [1, 0.6, 0.3, 0.15, 0.05] });
      }
    }
    if (style.flute) {
      const motif = bar % 2 === 0 ? [2, 1, 0, 1] : [0, 1, 2, 2];
      motif.forEach((k, i) => tone(t0 + i * beat, beat * 0.95, midiHz(chord[k]! + 24), 0.04, { attack: 0.06, decay: 0.3, harmonics: [1, 0.1], vibrato: 0.004 }));
    }
    if (style.drums) {
      for (let b = 0; b < 4; b++) {
        const start = Math.round((t0 + b * beat) * rate);
        if (b % 2 === 0) {
          for (let i = 0; i < 0.25 * rate; i++) {
            const t = i / rate;
            out[start + i]! += 0.35 * Math.exp(-t * 18) * Math.sin(2 * Math.PI * (50 + 70 * Math.exp(-t * 30)) * t);
          }
        } else {
          for (let i = 0; i < 0.12 * rate; i++) out[start + i]! += 0.12 * Math.exp(-(i / rate) * 30) * noise();
        }
        const off = Math.round((t0 + (b + 0.5) * beat) * rate);
        let prev = 0;
        for (let i = 0; i < 0.04 * rate; i++) {
          const n = noise();
          out[off + i]! += 0.05 * Math.exp(-(i / rate) * 90) * (n - prev);
          prev = n;
        }
      }
    }
    yield;
  }
  for (let i = length; i < out.length; i++) out[i - length]! += out[i]!;
  const loop = out.subarray(0, length);
  let peak = 0;
  for (const v of loop) peak = Math.max(peak, Math.abs(v));
  const gain = peak > 0 ? 0.8 / peak : 1;
  const samples = new Float32Array(length);
  for (let i = 0; i < length; i++) samples[i] = loop[i]! * gain;
  return { sampleRate: rate, samples };
}
