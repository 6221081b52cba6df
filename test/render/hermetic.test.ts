import { createHash } from "node:crypto";
import { copyFile, mkdir, mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { build, plan } from "../../src/engine/build.js";
import { Cache } from "../../src/lock/cache.js";
import { LocalRenderer } from "../../src/render/local/index.js";
import type { DepOutput, Memo, Renderer, RenderInput, RenderNode, RenderResult } from "../../src/render/types.js";
import { copyExample } from "../helpers/story-dir.js";

const dirs: string[] = [];
afterAll(async () => {
  await Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true })));
});

/** Every property path read on a value, including reads of properties it does not have. */
function recording<T extends object>(value: T, path: string, reads: Set<string>, missing: Set<string>): T {
  return new Proxy(value, {
    get(target, property, receiver) {
      if (typeof property === "symbol") return Reflect.get(target, property, receiver);
      const here = `${path}.${property}`;
      reads.add(here);
      if (!(property in target)) missing.add(here);
      const v = Reflect.get(target, property, receiver);
      // Abort signals and functions are handed on as they are: they are the renderer's means, not data.
      if (v && typeof v === "object" && !(v instanceof AbortSignal)) return recording(v as object, here, reads, missing);
      return v;
    },
  });
}

/** The local renderer, with every read of its input recorded per node. */
class RecordingRenderer implements Renderer {
  readonly reads = new Map<string, Set<string>>();
  readonly missing = new Map<string, Set<string>>();
  constructor(private readonly inner: LocalRenderer) {}
  get identity() {
    return this.inner.identity;
  }
  get options() {
    return this.inner.options;
  }
  get videoPieces() {
    return this.inner.videoPieces;
  }
  readonly paid = false;
  toolchain(cacheDir: string) {
    return this.inner.toolchain(cacheDir);
  }
  prepare() {
    return this.inner.prepare();
  }
  render(input: RenderInput): Promise<RenderResult> {
    const reads = new Set<string>();
    const missing = new Set<string>();
    this.reads.set(input.node.id, reads);
    this.missing.set(input.node.id, missing);
    return this.inner.render(recording(input, "input", reads, missing));
  }
}

describe("a renderer sees only its node's inputs", () => {
  it("reads nothing outside the node's inputs, its dependencies' outputs and its media, and the same inputs alone make the same bytes", async () => {
    // lighthouse names a reference picture for an environment and a music file: media reach the renderer too.
    const { dir, story } = await copyExample("lighthouse", "lighthouse.yaml");
    const cacheDir = await mkdtemp(join(tmpdir(), "storyc-hermetic-cache-"));
    dirs.push(dir, cacheDir);
    const recorder = new RecordingRenderer(new LocalRenderer());
    const built = await build(story, { renderer: recorder, cacheDir, jobs: 2 });
    if (!built.ok) throw new Error(`build failed: ${JSON.stringify(built.failure).slice(0, 800)}`);
    const planned = await plan(story, { renderer: new LocalRenderer(), cacheDir });
    if (!planned.ok) throw new Error("plan failed");
    const { graph } = planned;

    // extraSlot hands over no data, only a job slot: when a piece encodes, not what it is.
    const allowedRoots = ["node", "deps", "media", "workDir", "signal", "progress", "memo", "pending", "recordPending", "extraSlot"];
    expect([...recorder.reads.keys()].sort()).toEqual(graph.nodes.map((n) => n.id).sort());
    for (const node of graph.nodes) {
      expect([...recorder.missing.get(node.id)!], `${node.id} asked for what its input lacks`).toEqual([]);
      for (const path of recorder.reads.get(node.id)!) {
        const [, root, field, sub] = path.split(".");
        expect(allowedRoots, `${node.id} read ${path}`).toContain(root);
        if (root === "node" && field === "inputs" && sub) expect(Object.keys(node.inputs)).toContain(sub);
      }
    }
    // Some node read a local file through media, by hash.
    expect([...recorder.reads.values()].some((r) => [...r].some((p) => /^input\.media\.[0-9a-f]{64}$/.test(p)))).toBe(true);

    // Now render every node again from its inputs alone: the story's folder is gone, the memo is empty.
    const lock = JSON.parse(await readFile(join(dir, "lighthouse.lock"), "utf8")) as {
      nodes: Record<string, { outputs: Array<{ name: string; sha256: string }>; meta?: Record<string, string | number | boolean> }>;
    };
    await rm(dir, { recursive: true, force: true });
    const cache = new Cache(cacheDir, cacheDir);
    const outputOf = (id: string): DepOutput => ({
      id,
      files: Object.fromEntries(lock.nodes[id]!.outputs.map((o) => [o.name, cache.blobPath(o.sha256)])),
      meta: lock.nodes[id]!.meta ?? {},
    });
    const scratch = await mkdtemp(join(tmpdir(), "storyc-hermetic-work-"));
    dirs.push(scratch);
    const memoDir = join(scratch, "memo");
    await mkdir(memoDir);
    const memo: Memo = {
      get: async () => null,
      put: async (key, file) => {
        const kept = join(memoDir, createHash("sha256").update(key).digest("hex"));
        await copyFile(file, kept);
        return kept;
      },
    };
    const renderer = new LocalRenderer();
    for (const node of graph.nodes) {
      const workDir = join(scratch, node.id.replace(/\W/g, "_"));
      await mkdir(workDir);
      const deps = Object.fromEntries(Object.entries(node.deps).map(([role, ids]) => [role, Array.isArray(ids) ? ids.map(outputOf) : outputOf(ids)]));
      const media = Object.fromEntries(
        Object.values(node.inputs)
          .filter((v): v is { file: string; sha256: string } => typeof v === "object" && v !== null && "sha256" in v)
          .map((m) => [m.sha256, cache.blobPath(m.sha256)]),
      );
      const result = await renderer.render({
        node: { id: node.id, kind: node.kind, key: node.key, inputs: node.inputs } as RenderNode,
        deps,
        media,
        workDir,
        signal: new AbortController().signal,
        progress: () => undefined,
        memo,
        pending: undefined,
        recordPending: async () => undefined,
      });
      const made = Object.fromEntries(await Promise.all(result.files.map(async (f) => [f.name, createHash("sha256").update(await readFile(f.path)).digest("hex")] as const)));
      const recorded = Object.fromEntries(lock.nodes[node.id]!.outputs.map((o) => [o.name, o.sha256]));
      expect(made, `${node.id} made other bytes from the same inputs`).toEqual(recorded);
    }
  }, 300_000);
});
