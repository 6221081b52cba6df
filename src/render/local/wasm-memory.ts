/**
 * Putting a WebAssembly instance's memory back into an earlier state, as the
 * speech synthesizer does before every line (speech.ts).
 */

const BLOCK = 64 * 1024;
const ZEROS = Buffer.alloc(BLOCK);

/**
 * The end of the last 64 KB block of `memory` that holds anything but zeros,
 * found from the top by comparing blocks with zeros. The synthesizer's memory
 * is 32 MB, of which its data files take 18 and a line's work a few more:
 * only what lies below is copied back at every line, and the pages above,
 * never written, are never given to the thread (it holds 28 MB less).
 */
function usedEnd(memory: Uint8Array): number {
  let end = memory.length;
  while (end > 0) {
    const start = (Math.ceil(end / BLOCK) - 1) * BLOCK;
    if (!Buffer.from(memory.buffer, memory.byteOffset + start, end - start).equals(ZEROS.subarray(0, end - start))) break;
    end = start;
  }
  return end;
}

/** A memory's state to put back later (restoreMemory): its bytes up to the last block in use. */
export function memorySnapshot(memory: Uint8Array): Uint8Array {
  return memory.slice(0, usedEnd(memory));
}

/** Puts a memory back into the state `snapshot` was taken of: what lies above the last block in use is zeros, now as then. */
export function restoreMemory(memory: Uint8Array, snapshot: Uint8Array): void {
  const used = usedEnd(memory);
  memory.set(snapshot);
  if (used > snapshot.length) memory.fill(0, snapshot.length, used);
}
