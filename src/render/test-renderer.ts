import { access, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import type { Renderer, RenderInput, RenderResult } from "./types.js";

export interface TestRendererOptions {
  /** Milliseconds each node takes. */
  delayMs?: number;
  /** Node ids that fail instead of rendering. */
  failOn?: string[];
  /**
   * For tests that must act exactly mid-node (kill the process rendering it):
   * a node named in `nodes` (all when absent) writes `<id>.started.<pid>` in
   * `dir`, with `/` in ids as `_`, and waits for `<id>.go`, at most `timeoutMs`.
   */
  gate?: { dir: string; nodes?: string[]; timeoutMs?: number };
}

/**
 * A renderer that writes a small text file per node describing what it was
 * made from, taking a fixed time. It lets the engine be tested and measured
 * without the cost of real rendering, and counts what it was asked to do.
 */
export class TestRenderer implements Renderer {
  readonly identity = { name: "test", version: "1" };
  readonly options = {};
  readonly paid = false;
  /** Ids of the nodes rendered, in the order they finished. */
  readonly calls: string[] = [];

  constructor(private readonly config: TestRendererOptions = {}) {}

  estimateCredits(): number {
    return 0;
  }

  async render(input: RenderInput): Promise<RenderResult> {
    const { node } = input;
    if (this.config.delayMs) {
      input.progress(0.5);
      await sleep(this.config.delayMs, undefined, { signal: input.signal });
    }
    const gate = this.config.gate;
    if (gate && (!gate.nodes || gate.nodes.includes(node.id))) await passGate(gate.dir, node.id, gate.timeoutMs ?? 60_000, input.signal);
    input.signal.throwIfAborted();
    if (this.config.failOn?.includes(node.id)) throw new Error(`test renderer told to fail on ${node.id}`);
    const deps = Object.fromEntries(
      Object.entries(input.deps).map(([role, d]) => [role, (Array.isArray(d) ? d : [d]).map((x) => x.id)]),
    );
    const path = join(input.workDir, "out.txt");
    await writeFile(path, JSON.stringify({ id: node.id, key: node.key, inputs: node.inputs, deps }, null, 2));
    this.calls.push(node.id);
    const meta: Record<string, number> = {};
    if (node.kind === "scene-narration") meta.duration = Math.max(1, String(node.inputs.text ?? "").split(/\s+/).length * 0.4);
    return { files: [{ name: `${node.kind}.txt`, path }], meta };
  }
}

async function passGate(dir: string, id: string, timeoutMs: number, signal: AbortSignal): Promise<void> {
  const base = join(dir, id.replaceAll("/", "_"));
  await writeFile(`${base}.started.${process.pid}`, String(process.pid));
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await access(`${base}.go`).then(() => true, () => false)) return;
    if (Date.now() > deadline) throw new Error(`test renderer: no ${base}.go within ${timeoutMs} ms`);
    await sleep(20, undefined, { signal });
  }
}
