import { hashJson } from "../graph/hash.js";
import type { GraphNode } from "../graph/nodes.js";
import type { StoredOutput } from "../lock/cache.js";
import type { Renderer } from "../render/types.js";

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
  node: Pick<GraphNode, "id" | "kind" | "label" | "key" | "inputs" | "deps" | "digests"> & { scene?: number };
  deps: Record<string, JobDep | JobDep[]>;
  /** Local files the inputs name ({file, sha256}), by content. */
  media: BlobRef[];
  /**
   * The story and its resolved settings, as one JSON blob in the team cache.
   * The renderers of this version still read a few story fields (environment
   * descriptions, scene labels) beside the node's inputs.
   */
  context: BlobRef;
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

/**
 * The part of every key the renderer contributes (name, version, options,
 * and its toolchain when it reports one): two machines with equal digests
 * make equal bytes for equal keys.
 */
export async function toolchainDigest(renderer: Renderer, cacheDir: string): Promise<{ digest: string; describe: string }> {
  // Renderers that key their tools (the ffmpeg build) say so through an optional toolchain().
  const toolchain = (renderer as { toolchain?: (dir: string) => Promise<unknown> }).toolchain;
  const tools = toolchain ? await toolchain.call(renderer, cacheDir) : null;
  const digest = hashJson({ identity: renderer.identity, options: renderer.options, toolchain: tools });
  const options = Object.entries(renderer.options).map(([k, v]) => `${k}=${String(v)}`).join(",");
  return { digest, describe: `${renderer.identity.name} ${renderer.identity.version}${options ? ` (${options})` : ""}, toolchain ${digest.slice(0, 12)}` };
}

/** The {file, sha256} objects of a node's inputs: media the renderer reads from disk. */
export function mediaOf(inputs: unknown): Array<{ file: string; sha256: string }> {
  const found: Array<{ file: string; sha256: string }> = [];
  const walk = (value: unknown) => {
    if (Array.isArray(value)) value.forEach(walk);
    else if (value && typeof value === "object") {
      const o = value as Record<string, unknown>;
      if (typeof o.file === "string" && typeof o.sha256 === "string") found.push({ file: o.file, sha256: o.sha256 });
      else Object.values(o).forEach(walk);
    }
  };
  walk(inputs);
  return found;
}

/** The inputs with each media file pointing at a verified local copy (by sha256); the key stays the one in the job. */
export function withMediaPaths(inputs: Record<string, unknown>, paths: ReadonlyMap<string, string>): Record<string, unknown> {
  const map = (value: unknown): unknown => {
    if (Array.isArray(value)) return value.map(map);
    if (value && typeof value === "object") {
      const o = value as Record<string, unknown>;
      if (typeof o.file === "string" && typeof o.sha256 === "string" && paths.has(o.sha256)) return { ...o, file: paths.get(o.sha256) };
      return Object.fromEntries(Object.entries(o).map(([k, v]) => [k, map(v)]));
    }
    return value;
  };
  return map(inputs) as Record<string, unknown>;
}
