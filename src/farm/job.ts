import { hashJson } from "../graph/hash.js";
import type { ToolchainOf } from "../graph/nodes.js";
import type { StoredOutput } from "../lock/cache.js";
import type { Renderer, RenderNode } from "../render/types.js";

/** A blob in the team cache, named by the sha256 of its bytes. */
export interface BlobRef {
  name: string;
  sha256: string;
  size: number;
}

/** A finished dependency as a worker needs it: its outputs by content, and its facts. */
export interface JobDep {
  id: string;
  outputs: BlobRef[];
  meta: Record<string, string | number | boolean>;
}

/**
 * What a node job carries through Redis: ids, keys and content hashes,
 * never bytes (they go through the team cache) and never paths of the
 * building machine. BullMQ's job id is the node key, so the same node
 * submitted twice (two stories, a rerun) is one job.
 */
export interface FarmJobData {
  version: 1;
  /** Exactly what a renderer sees of the node: its id, kind, key and typed inputs. */
  node: RenderNode;
  deps: Record<string, JobDep | JobDep[]>;
  /** Local files the inputs name, by content. */
  media: BlobRef[];
  renderer: { name: string; options: Record<string, unknown> };
  /** What the building machine's renderer keys on; a worker whose digest differs must not make the node. */
  toolchain: { digest: string; describe: string };
}

/** What a worker hands back: the outputs it uploaded, their facts, and who it was. */
export interface FarmJobResult {
  outputs: StoredOutput[];
  meta: Record<string, string | number | boolean>;
  worker: string;
}

/** Progress a worker reports while it renders a node. */
export interface FarmJobProgress {
  fraction: number;
  worker: string;
  message?: string;
}

/** The renderer's account of its tools (the ffmpeg build...), asked once per process. */
export async function toolchainOf(renderer: Renderer, cacheDir: string): Promise<ToolchainOf | undefined> {
  return renderer.toolchain ? renderer.toolchain(cacheDir) : undefined;
}

/**
 * The part of a node's key the renderer contributes (name, version, options,
 * and the tools that make this node): two machines with equal digests make
 * equal bytes for equal keys.
 */
export function toolchainDigest(renderer: Renderer, tools: ToolchainOf | undefined, node: RenderNode): { digest: string; describe: string } {
  const used = tools ? tools(node.kind, node.inputs) : null;
  const digest = hashJson({ identity: renderer.identity, options: renderer.options, toolchain: used ?? null });
  const options = Object.entries(renderer.options).map(([k, v]) => `${k}=${String(v)}`).join(",");
  return { digest, describe: `${renderer.identity.name} ${renderer.identity.version}${options ? ` (${options})` : ""}, toolchain ${digest.slice(0, 12)}` };
}
