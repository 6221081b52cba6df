/**
 * The sound track's arithmetic, in plain JS: the music ducked under the
 * narration and the whole brought to a loudness without clipping. It runs in
 * milliseconds and gives the same samples on every machine, where the same
 * graph of ffmpeg filters negotiated channel layouts differently from one
 * ffmpeg version to the next.
 */

export interface DuckOptions {
  /** Level of the key (the narration) above which the bed is turned down. */
  threshold: number;
  ratio: number;
  attackSeconds: number;
  releaseSeconds: number;
}

export const DUCKING: DuckOptions = { threshold: 0.02, ratio: 8, attackSeconds: 0.02, releaseSeconds: 0.4 };

/** Turns `bed` down wherever `key` is loud, as a sidechain compressor with an RMS detector would. In place. */
export function duck(bed: Float32Array, key: Float32Array, rate: number, o: DuckOptions = DUCKING): void {
  const attack = Math.exp(-1 / (o.attackSeconds * rate));
  const release = Math.exp(-1 / (o.releaseSeconds * rate));
  const exponent = 1 - 1 / o.ratio;
  let envelope = 0;
  for (let i = 0; i < bed.length; i++) {
    const k = key[i] ?? 0;
    const power = k * k;
    const coef = power > envelope ? attack : release;
    envelope = coef * envelope + (1 - coef) * power;
    const level = Math.sqrt(envelope);
    if (level > o.threshold) bed[i]! *= Math.pow(o.threshold / level, exponent);
  }
}

/**
 * Applies a gain in dB and keeps every sample within `ceiling`. The limiter's
 * gain at each sample is the lowest gain any sample within `lookahead` needs,
 * averaged over half that span: a smooth ramp that never lets a peak through.
 */
export function applyGainLimited(samples: Float32Array, gainDb: number, rate: number, ceiling = 0.89, lookaheadSeconds = 0.005): Float32Array {
  const gain = Math.pow(10, gainDb / 20);
  const n = samples.length;
  const needed = new Float32Array(n);
  let limiting = false;
  for (let i = 0; i < n; i++) {
    const peak = Math.abs(samples[i]! * gain);
    needed[i] = peak > ceiling ? ceiling / peak : 1;
    if (peak > ceiling) limiting = true;
  }
  const out = new Float32Array(n);
  if (!limiting) {
    for (let i = 0; i < n; i++) out[i] = samples[i]! * gain;
    return out;
  }
  const span = Math.max(1, Math.round(lookaheadSeconds * rate));
  const windowMin = slidingMin(needed, span);
  const half = Math.max(1, Math.floor(span / 2));
  // A moving average over ±half of minima over ±span: each term already covers the sample, so the average does too.
  let sum = 0;
  for (let i = -half; i <= half; i++) sum += windowMin[clamp(i, n)]!;
  for (let i = 0; i < n; i++) {
    const g = Math.min(1, sum / (2 * half + 1));
    out[i] = samples[i]! * gain * g;
    sum += windowMin[clamp(i + half + 1, n)]! - windowMin[clamp(i - half, n)]!;
  }
  return out;
}

function clamp(i: number, n: number): number {
  return i < 0 ? 0 : i >= n ? n - 1 : i;
}

/** The minimum of `values` over [i - span, i + span] for every i, in linear time (a monotone deque). */
function slidingMin(values: Float32Array, span: number): Float32Array {
  const n = values.length;
  const out = new Float32Array(n);
  const deque = new Int32Array(n);
  let head = 0;
  let tail = 0;
  let next = 0;
  for (let i = 0; i < n; i++) {
    const right = Math.min(n - 1, i + span);
    while (next <= right) {
      while (tail > head && values[deque[tail - 1]!]! >= values[next]!) tail--;
      deque[tail++] = next++;
    }
    while (deque[head]! < i - span) head++;
    out[i] = values[deque[head]!]!;
  }
  return out;
}
