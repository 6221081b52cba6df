/**
 * Integrated loudness of a mono signal after ITU-R BS.1770-4 / EBU R128: K-weighting
 * (a high shelf and a high pass), mean square over 400 ms blocks every 100 ms,
 * an absolute gate at -70 LUFS and a relative gate 10 LU below the ungated mean.
 * Done here rather than with ffmpeg's ebur128 filter so that the sound track is
 * measured the same way whatever ffmpeg is installed.
 */

interface Biquad {
  b0: number;
  b1: number;
  b2: number;
  a1: number;
  a2: number;
}

/** The two K-weighting stages for a sample rate, derived as libebur128 derives them. */
function kWeighting(rate: number): [Biquad, Biquad] {
  let f0 = 1681.974450955533;
  const gain = 3.999843853973347;
  let q = 0.7071752369554196;
  let k = Math.tan((Math.PI * f0) / rate);
  const vh = Math.pow(10, gain / 20);
  const vb = Math.pow(vh, 0.4996667741545416);
  let a0 = 1 + k / q + k * k;
  const shelf: Biquad = {
    b0: (vh + (vb * k) / q + k * k) / a0,
    b1: (2 * (k * k - vh)) / a0,
    b2: (vh - (vb * k) / q + k * k) / a0,
    a1: (2 * (k * k - 1)) / a0,
    a2: (1 - k / q + k * k) / a0,
  };
  f0 = 38.13547087602444;
  q = 0.5003270373238773;
  k = Math.tan((Math.PI * f0) / rate);
  a0 = 1 + k / q + k * k;
  const highPass: Biquad = { b0: 1, b1: -2, b2: 1, a1: (2 * (k * k - 1)) / a0, a2: (1 - k / q + k * k) / a0 };
  return [shelf, highPass];
}

/**
 * Mean squares of the K-weighted signal over each 400 ms block, every 100 ms,
 * in one pass: both stages run sample by sample (the shelf's output rounded to
 * 32 bits, as a Float32Array between the stages would keep it), and the running
 * sum of squares is kept only where a block starts or ends. A build measures
 * every piece of its sound track: no array of the signal's length is made.
 */
function blockPowers(samples: Float32Array, rate: number): number[] {
  const [s, h] = kWeighting(rate);
  const block = Math.round(0.4 * rate);
  const step = Math.round(0.1 * rate);
  const n = samples.length;
  if (n < block) return [];
  const blocks = Math.floor((n - block) / step) + 1;
  // The running sum before sample `start` and before sample `start + block`, for each block.
  const before = new Float64Array(blocks);
  const after = new Float64Array(blocks);
  let [sx1, sx2, sy1, sy2, hx1, hx2, hy1, hy2] = [0, 0, 0, 0, 0, 0, 0, 0];
  let sum = 0;
  let starting = 0;
  let ending = 0;
  for (let i = 0; ; i++) {
    if (starting < blocks && i === starting * step) before[starting++] = sum;
    if (ending < blocks && i === ending * step + block) after[ending++] = sum;
    if (i === n) break;
    const x = samples[i]!;
    const shelved = s.b0 * x + s.b1 * sx1 + s.b2 * sx2 - s.a1 * sy1 - s.a2 * sy2;
    sx2 = sx1;
    sx1 = x;
    sy2 = sy1;
    sy1 = shelved;
    const u = Math.fround(shelved);
    const y = h.b0 * u + h.b1 * hx1 + h.b2 * hx2 - h.a1 * hy1 - h.a2 * hy2;
    hx2 = hx1;
    hx1 = u;
    hy2 = hy1;
    hy1 = y;
    sum = sum + y * y;
  }
  return Array.from(before, (b, k) => (after[k]! - b) / block);
}

/** Loudness in LUFS, or -Infinity for silence (nothing passes the absolute gate). */
export function integratedLoudness(samples: Float32Array, rate: number): number {
  const powers = blockPowers(samples, rate);
  if (powers.length === 0) return -Infinity;
  const lufs = (z: number) => -0.691 + 10 * Math.log10(z);
  const mean = (zs: number[]) => zs.reduce((a, b) => a + b, 0) / zs.length;
  const absolute = powers.filter((z) => lufs(z) > -70);
  if (absolute.length === 0) return -Infinity;
  const relativeGate = lufs(mean(absolute)) - 10;
  const gated = absolute.filter((z) => lufs(z) > relativeGate);
  return lufs(mean(gated));
}
