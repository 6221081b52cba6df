/** Mono 16-bit PCM WAV, the one format storyc's audio code reads and writes itself. */
export interface Pcm {
  sampleRate: number;
  samples: Float32Array;
}

export function decodeWav(buf: Buffer): Pcm {
  if (buf.toString("ascii", 0, 4) !== "RIFF" || buf.toString("ascii", 8, 12) !== "WAVE") throw new Error("not a WAV file");
  let offset = 12;
  let sampleRate = 0;
  let channels = 1;
  let bits = 16;
  while (offset + 8 <= buf.length) {
    const id = buf.toString("ascii", offset, offset + 4);
    let size = buf.readUInt32LE(offset + 4);
    const body = offset + 8;
    if (id === "fmt ") {
      channels = buf.readUInt16LE(body + 2);
      sampleRate = buf.readUInt32LE(body + 4);
      bits = buf.readUInt16LE(body + 14);
    } else if (id === "data") {
      // Streaming writers (espeak among them) may leave the data size unset.
      if (size === 0 || size === 0xffffffff || body + size > buf.length) size = buf.length - body;
      if (bits !== 16) throw new Error(`unsupported WAV sample size ${bits}`);
      const frames = Math.floor(size / (2 * channels));
      // A typed view of the data, as encodeWav writes it: less than half the time of readInt16LE per sample. It
      // needs the data at an even address; the synthesizer's WAV, read from its memory, may not be.
      const at = buf.byteOffset + body;
      const data = at % 2 === 0 ? new Int16Array(buf.buffer, at, frames * channels) : new Int16Array(new Uint8Array(buf.subarray(body, body + frames * channels * 2)).buffer);
      const samples = new Float32Array(frames);
      for (let i = 0; i < frames; i++) {
        let sum = 0;
        for (let c = 0; c < channels; c++) sum += data[i * channels + c]!;
        samples[i] = sum / channels / 32768;
      }
      return { sampleRate, samples };
    }
    offset = body + size + (size % 2);
  }
  throw new Error("WAV file has no data");
}

export function encodeWav(pcm: Pcm): Buffer {
  const n = pcm.samples.length;
  const buf = Buffer.alloc(44 + n * 2);
  buf.write("RIFF", 0, "ascii");
  buf.writeUInt32LE(36 + n * 2, 4);
  buf.write("WAVE", 8, "ascii");
  buf.write("fmt ", 12, "ascii");
  buf.writeUInt32LE(16, 16);
  buf.writeUInt16LE(1, 20);
  buf.writeUInt16LE(1, 22);
  buf.writeUInt32LE(pcm.sampleRate, 24);
  buf.writeUInt32LE(pcm.sampleRate * 2, 28);
  buf.writeUInt16LE(2, 32);
  buf.writeUInt16LE(16, 34);
  buf.write("data", 36, "ascii");
  buf.writeUInt32LE(n * 2, 40);
  // A typed view of the data chunk: a tenth of the time of writeInt16LE per sample. WAV is little-endian,
  // as every machine Node runs on is.
  const data = new Int16Array(buf.buffer, buf.byteOffset + 44, n);
  for (let i = 0; i < n; i++) data[i] = Math.max(-32768, Math.min(32767, Math.round(pcm.samples[i]! * 32767)));
  return buf;
}

export function durationOf(pcm: Pcm): number {
  return pcm.samples.length / pcm.sampleRate;
}
