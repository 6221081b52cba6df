import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import type { Renderer, RenderInput, RenderResult } from "./types.js";

export interface TestRendererOptions {
  /** Milliseconds each node takes. */
  delayMs?: number;
  /** Node ids that fail instead of rendering. */
  failOn?: string[];
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
