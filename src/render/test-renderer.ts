import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { connect } from "node:net";
import { setTimeout as sleep } from "node:timers/promises";
import type { Renderer, RenderInput, RenderResult } from "./types.js";

export interface TestRendererOptions {
  /** Milliseconds each node takes. */
  delayMs?: number;
  /** Node ids that fail instead of rendering. */
  failOn?: string[];
  /**
   * host:port of a test's control server. Each node then waits for the test's
   * word before it finishes (in the manner of wireit's test rig), so that a
   * test drives a build by events instead of by timing. See renderGate.
   */
  control?: string;
  /** The nodes that wait for the control server's word; all of them when absent. */
  held?: string[];
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
    const { control, held } = this.config;
    if (control && (!held || held.includes(node.id))) await renderGate(control, node.id, input.signal);
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

/**
 * The control protocol, one JSON line each way over TCP: the renderer says
 * `{"started": id, "pid": pid}` (the pid tells a test which process to kill
 * mid-node, as a farm machine that dies); the test answers `go` (finish) or `fail`. When the build
 * is cancelled, the renderer says `{"aborted": id}` and waits for `go` before
 * it gives up, so that a test can keep a node in flight after a Ctrl-C (as a
 * paid cloud job that cannot be stopped).
 */
export function renderGate(control: string, id: string, signal: AbortSignal): Promise<void> {
  const [host, port] = [control.slice(0, control.lastIndexOf(":")), Number(control.slice(control.lastIndexOf(":") + 1))];
  return new Promise((resolve, reject) => {
    const socket = connect({ host, port });
    let buffer = "";
    let aborted = false;
    const onAbort = () => {
      aborted = true;
      socket.write(JSON.stringify({ aborted: id }) + "\n");
    };
    socket.on("connect", () => {
      socket.write(JSON.stringify({ started: id, pid: process.pid }) + "\n");
      if (signal.aborted) onAbort();
      else signal.addEventListener("abort", onAbort, { once: true });
    });
    socket.on("data", (chunk) => {
      buffer += chunk.toString();
      const line = buffer.split("\n")[0]!;
      if (!buffer.includes("\n")) return;
      signal.removeEventListener("abort", onAbort);
      socket.end();
      if (aborted) reject(signal.reason ?? new Error("aborted"));
      else if (line === "go") resolve();
      else reject(new Error(`test renderer told to fail on ${id}`));
    });
    socket.on("error", (error) => reject(new Error(`test renderer lost its control server ${control}: ${error.message}`)));
  });
}
