import { describe, expect, it } from "vitest";
import { memorySnapshot, restoreMemory } from "../../src/render/local/wasm-memory.js";

describe("a WebAssembly memory's snapshot", () => {
  it("puts a memory back as it was, below and above the last block its first state used", () => {
    // A memory whose first state ends in zeros, as the synthesizer's does above its data files and heap.
    const memory = new Uint8Array(5 * 65536 + 300);
    for (let i = 0; i < 2 * 65536 + 7; i++) memory[i] = (i * 31 + 7) % 251;
    const first = memory.slice();
    const snapshot = memorySnapshot(memory);
    expect(snapshot.length).toBe(3 * 65536);
    for (const scribbled of [[0, 10], [65536, 70000], [3 * 65536 + 5, 3 * 65536 + 9], [5 * 65536 + 299, 5 * 65536 + 300]]) {
      memory.fill(255, scribbled[0], scribbled[1]);
      restoreMemory(memory, snapshot);
      expect(Buffer.from(memory).equals(Buffer.from(first)), `scribbled over ${scribbled.join("-")}`).toBe(true);
    }
  });
});
