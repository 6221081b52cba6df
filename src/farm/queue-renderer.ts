import { copyFile, stat } from "node:fs/promises";
import { basename, join } from "node:path";
import { sha256File } from "../graph/hash.js";
import type { GraphNode, NodeKind, ToolchainOf } from "../graph/nodes.js";
import type { Cache, StoredOutput } from "../lock/cache.js";
import type { RemoteCache } from "../remote-cache/remote-cache.js";
import type { BuildContext, DepOutput, Renderer, RenderInput, RenderResult } from "../render/types.js";
import type { ResolvedSettings } from "../story/types.js";
import type { FarmClient } from "./farm-client.js";
import { toolchainDigest, toolchainOf, type BlobRef, type FarmJobData, type JobDep } from "./job.js";

/**
 * A renderer that has the farm's workers make each node. It has the
 * identity, options and toolchain of the renderer it wraps, so keys (and
 * therefore outputs) are those of a build on one machine; the engine's
 * executor stays the one scheduler and sees an ordinary, slow renderer.
 * Inputs go up to the team cache before the job is queued, outputs come
 * down from it verified by sha256.
 */
export class QueueRenderer implements Renderer {
  readonly identity: Renderer["identity"];
  readonly options: Record<string, unknown>;
  readonly paid = false;
  readonly videoPieces: boolean;
  private tools: Promise<ToolchainOf | undefined> | undefined;
  /** Nodes the build was told to make again (--force): a job the farm finished earlier is not taken for them. */
  private readonly forced = new Set<string>();

  constructor(
    private readonly inner: Renderer,
    private readonly farm: FarmClient,
    private readonly remote: RemoteCache,
    private readonly cache: Cache,
  ) {
    this.identity = inner.identity;
    this.options = inner.options;
    // The wrapped renderer's graph and order: the farm makes the same nodes a one-machine build would.
    this.videoPieces = inner.videoPieces === true;
  }

  weight(kind: NodeKind): number {
    return this.inner.weight?.(kind) ?? 1;
  }

  estimateCredits(node: GraphNode, settings: ResolvedSettings): number {
    return this.inner.estimateCredits?.(node, settings) ?? 0;
  }

  /** The wrapped renderer's tools make the keys: a farm build and a one-machine build share them. */
  toolchain(cacheDir: string): Promise<ToolchainOf> {
    return this.inner.toolchain ? this.inner.toolchain(cacheDir) : Promise.resolve(() => undefined);
  }

  async begin(context: BuildContext): Promise<void> {
    for (const key of context.forced ?? []) this.forced.add(key);
    this.tools ??= toolchainOf(this.inner, this.cache.dir);
    await this.tools;
  }

  async render(input: RenderInput): Promise<RenderResult> {
    const { node } = input;
    this.tools ??= toolchainOf(this.inner, this.cache.dir);
    const deps: FarmJobData["deps"] = {};
    const blobs: StoredOutput[] = [];
    for (const [role, d] of Object.entries(input.deps)) {
      const list = await Promise.all((Array.isArray(d) ? d : [d]).map((dep) => this.describeDep(dep)));
      for (const dep of list) blobs.push(...dep.outputs);
      deps[role] = Array.isArray(d) ? list : list[0]!;
    }
    // The executor checked each media copy against the hash in the key; it travels by that hash.
    const media: BlobRef[] = await Promise.all(Object.entries(input.media).map(async ([sha256, path]) => ({ name: "media", sha256, size: (await stat(path)).size })));
    blobs.push(...media);
    if (!(await this.remote.ensureBlobs(unique(blobs), this.cache))) {
      throw new Error(`could not put the inputs of ${node.id} in the remote cache ${this.remote.location}, where the farm's workers read them`);
    }
    const data: FarmJobData = {
      version: 1,
      node: { id: node.id, kind: node.kind, key: node.key, inputs: node.inputs } as FarmJobData["node"],
      deps,
      media,
      renderer: { name: this.identity.name, options: this.options },
      toolchain: toolchainDigest(this.inner, await this.tools, node),
    };
    const onProgress = (p: { fraction: number; worker: string }) => input.progress(p.fraction, `on ${p.worker}`);
    let result = await this.farm.make(data, { signal: input.signal, onProgress, again: this.forced.has(node.key) });
    // A finished job whose blobs the cache no longer has (evicted, or corrupt): made again, once.
    if (!(await this.remote.fetch(result.outputs, this.cache)).ok) {
      result = await this.farm.make(data, { signal: input.signal, onProgress, again: true });
      const outcome = await this.remote.fetch(result.outputs, this.cache);
      if (!outcome.ok) throw new Error(`the outputs of ${node.id} that ${result.worker} made are ${outcome.reason} in the remote cache ${this.remote.location}`);
    }
    // Copies: the executor moves what a renderer returns into the cache, and must not move the cache's own blob.
    const files: RenderResult["files"] = [];
    for (const o of result.outputs) {
      const path = join(input.workDir, o.name);
      await copyFile(this.cache.blobPath(o.sha256), path);
      files.push({ name: o.name, path });
    }
    return { files, meta: result.meta, worker: result.worker };
  }

  async dispose(): Promise<void> {
    await this.inner.dispose?.();
  }

  /** A dependency's outputs by content: the executor hands out cache paths, named by their sha256. */
  private async describeDep(dep: DepOutput): Promise<JobDep> {
    const outputs = await Promise.all(
      Object.entries(dep.files).map(async ([name, path]) => {
        const sha = basename(path);
        if (/^[0-9a-f]{64}$/.test(sha) && path === this.cache.blobPath(sha)) return { name, sha256: sha, size: (await stat(path)).size };
        return { name, ...(await sha256File(path)) };
      }),
    );
    return { id: dep.id, outputs, meta: dep.meta };
  }

}

function unique(blobs: StoredOutput[]): StoredOutput[] {
  return [...new Map(blobs.map((b) => [b.sha256, b])).values()];
}
