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

function filter(samples: Float32Array, f: Biquad): Float64Array {
  const out = new Float64Array(samples.length);
  let x1 = 0;
  let x2 = 0;
  let y1 = 0;
  let y2 = 0;
  for (let i = 0; i < samples.length; i++) {
    const x = samples[i]!;
    const y = f.b0 * x + f.b1 * x1 + f.b2 * x2 - f.a1 * y1 - f.a2 * y2;
    x2 = x1;
    x1 = x;
    y2 = y1;
    y1 = y;
    out[i] = y;
  }
  return out;
}

/** Loudness in LUFS, or -Infinity for silence (nothing passes the absolute gate). */
export function integratedLoudness(samples: Float32Array, rate: number): number {
  const [shelf, highPass] = kWeighting(rate);
  const weighted = filter(Float32Array.from(filter(samples, shelf)), highPass);
  const block = Math.round(0.4 * rate);
  const step = Math.round(0.1 * rate);
  if (weighted.length < block) return -Infinity;
  // Prefix sums of squares make each block's mean square one subtraction.
  const sums = new Float64Array(weighted.length + 1);
  for (let i = 0; i < weighted.length; i++) sums[i + 1] = sums[i]! + weighted[i]! * weighted[i]!;
  const powers: number[] = [];
  for (let start = 0; start + block <= weighted.length; start += step) powers.push((sums[start + block]! - sums[start]!) / block);
  const lufs = (z: number) => -0.691 + 10 * Math.log10(z);
  const mean = (zs: number[]) => zs.reduce((a, b) => a + b, 0) / zs.length;
  const absolute = powers.filter((z) => lufs(z) > -70);
  if (absolute.length === 0) return -Infinity;
  const relativeGate = lufs(mean(absolute)) - 10;
  const gated = absolute.filter((z) => lufs(z) > relativeGate);
  return lufs(mean(gated));
}
