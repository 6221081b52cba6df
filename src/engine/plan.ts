import { distance } from "fastest-levenshtein";
import type { BuildGraph, GraphNode } from "../graph/nodes.js";
import { depIds } from "../graph/nodes.js";
import type { Cache, StoredOutput } from "../lock/cache.js";
import type { LockEntry, Lockfile } from "../lock/lockfile.js";
import type { ResolvedSettings } from "../story/types.js";
import type { Renderer, RenderNode } from "../render/types.js";
import type { RemoteCache } from "../remote-cache/remote-cache.js";

export type PlanAction = "create" | "update" | "delete" | "fresh";

export interface PlanItem {
  id: string;
  label: string;
  action: PlanAction;
  /** Why: which input or dependency changed, a missing output, a forced build. */
  reasons: string[];
  /**
   * For a fresh node: what says it is done (the lockfile, the local action
   * cache, or the team cache's action entry) and where its outputs are.
   * `fetch`: the bytes are in the team cache only, brought down when
   * something needs them (builds without the bytes).
   */
  reuse?: { from: "lock" | "cache" | "remote"; outputs: StoredOutput[]; meta?: Record<string, string | number | boolean>; remote?: LockEntry["remote"]; fetch?: boolean };
  credits?: number;
  /** What the renderer says about this node's work (how a local file reaches the API, say). */
  notes?: string[];
}

export interface Plan {
  items: PlanItem[];
  counts: { create: number; update: number; delete: number; fresh: number };
  /** Estimated cloud credits of the work, for a paid renderer. */
  credits?: number;
  /** Why the renderer will not start this work, with what to do: a build stops before any of it. */
  blocking?: Array<{ message: string; hint: string }>;
}

/** Node ids matching --force patterns (exact ids, or * as a wildcard), with everything downstream of them. */
export function forcedNodes(graph: BuildGraph, patterns: readonly string[]): Set<string> {
  const regexes = patterns.map(patternRegExp);
  const forced = new Set<string>();
  for (const node of graph.nodes) {
    if (regexes.some((r) => r.test(node.id)) || depIds(node).some((d) => forced.has(d))) forced.add(node.id);
  }
  return forced;
}

/** A --force pattern that names no node, with the node ids nearest to it. */
export interface UnmatchedPattern {
  pattern: string;
  nearest: string[];
}

/** The patterns that match no node: a typo would otherwise force nothing and pass in silence. */
export function unmatchedPatterns(graph: BuildGraph, patterns: readonly string[]): UnmatchedPattern[] {
  const ids = graph.nodes.map((n) => n.id);
  return patterns
    .filter((p) => !ids.some((id) => patternRegExp(p).test(id)))
    .map((pattern) => {
      const ranked = ids.map((id) => ({ id, d: distance(pattern, id) })).sort((a, b) => a.d - b.d || a.id.localeCompare(b.id));
      const near = ranked.filter((r) => r.d <= Math.max(3, Math.ceil(pattern.length / 2)));
      return { pattern, nearest: (near.length ? near : ranked).slice(0, 3).map((r) => r.id) };
    });
}

function patternRegExp(pattern: string): RegExp {
  return new RegExp(`^${pattern.split("*").map(escapeRegExp).join(".*")}$`);
}

function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}

/**
 * Compares the graph with the lockfile and the cache. A node is fresh when
 * the lockfile has its key and the cache has its bytes, or when the action
 * cache remembers the key (an edit reverted, a scene moved back).
 */
export async function computePlan(
  graph: BuildGraph,
  lock: Lockfile | null,
  cache: Cache,
  options: { force?: Set<string>; renderer?: Renderer; settings?: ResolvedSettings; remote?: RemoteCache } = {},
): Promise<Plan> {
  const previous = lock?.nodes ?? {};
  const items = await Promise.all(graph.nodes.map((node) => planNode(node, graph, previous, cache, options.force?.has(node.id) ?? false, options.remote)));
  for (const id of Object.keys(previous).sort()) {
    if (!graph.byId.has(id)) items.push({ id, label: id, action: "delete", reasons: ["no longer in the story"] });
  }
  const counts = { create: 0, update: 0, delete: 0, fresh: 0 };
  let credits = 0;
  for (const item of items) {
    counts[item.action]++;
    if ((item.action === "create" || item.action === "update") && options.renderer?.estimateCredits && options.settings) {
      item.credits = options.renderer.estimateCredits(graph.byId.get(item.id)!, options.settings);
      credits += item.credits;
    }
  }
  let blocking: Plan["blocking"] = [];
  if (options.renderer?.review) {
    const stale = items.filter((i) => i.action === "create" || i.action === "update").map((i) => graph.byId.get(i.id)!);
    const review = options.renderer.review(stale.map((n) => ({ id: n.id, kind: n.kind, key: n.key, inputs: n.inputs }) as RenderNode));
    for (const item of items) if (review.notes[item.id]?.length) item.notes = review.notes[item.id]!;
    blocking = review.blocking;
  }
  return { items, counts, ...(options.renderer?.paid ? { credits } : {}), ...(blocking.length ? { blocking } : {}) };
}

async function planNode(
  node: GraphNode,
  graph: BuildGraph,
  previous: Record<string, LockEntry>,
  cache: Cache,
  forced: boolean,
  remote: RemoteCache | undefined,
): Promise<PlanItem> {
  const base = { id: node.id, label: node.label };
  const entry = previous[node.id];
  if (forced) return { ...base, action: entry ? "update" : "create", reasons: ["forced"] };
  if (entry?.key === node.key) {
    if (await cache.allIntact(entry.outputs)) {
      return { ...base, action: "fresh", reasons: [], reuse: { from: "lock", outputs: entry.outputs, ...(entry.meta ? { meta: entry.meta } : {}), ...(entry.remote ? { remote: entry.remote } : {}) } };
    }
  }
  const action = await cache.getAction(node.key);
  if (action && (await cache.allIntact(action.outputs))) {
    return { ...base, action: "fresh", reasons: ["restored from the cache"], reuse: { from: "cache", outputs: action.outputs, ...(action.meta ? { meta: action.meta } : {}) } };
  }
  // Present remotely: the lockfile's outputs are in the team cache (a fresh clone), or the team cache knows the key.
  if (remote && entry?.key === node.key && (await remote.hasBlobs(entry.outputs))) {
    const outputs = entry.outputs.map(({ name, sha256, size }) => ({ name, sha256, size }));
    return { ...base, action: "fresh", reasons: ["in the remote cache"], reuse: { from: "lock", outputs, fetch: true, ...(entry.meta ? { meta: entry.meta } : {}), ...(entry.remote ? { remote: entry.remote } : {}) } };
  }
  const shared = remote ? await remote.getAction(node.key) : null;
  if (shared) {
    const reuse = { from: "remote" as const, outputs: shared.outputs, fetch: true, meta: shared.meta, ...(shared.remote ? { remote: shared.remote } : {}) };
    return { ...base, action: "fresh", reasons: ["restored from the remote cache"], reuse };
  }
  if (!entry) return { ...base, action: "create", reasons: ["new"] };
  if (entry.key === node.key) return { ...base, action: "update", reasons: ["output missing from the cache"] };
  return { ...base, action: "update", reasons: explainChange(node, entry, graph, previous) };
}

/** Which inputs and dependencies of a node changed since the lockfile was written. */
function explainChange(node: GraphNode, entry: LockEntry, graph: BuildGraph, previous: Record<string, LockEntry>): string[] {
  const reasons: string[] = [];
  const old = entry.digests ?? {};
  if (old.renderer !== node.digests.renderer) reasons.push("renderer changed");
  for (const [name, digest] of Object.entries(node.digests)) {
    if (name === "renderer" || name.startsWith("deps.") || old[name] === digest) continue;
    reasons.push(`${name} changed`);
  }
  for (const [role, deps] of Object.entries(node.deps)) {
    if (old[`deps.${role}`] === node.digests[`deps.${role}`]) continue;
    const list = Array.isArray(deps) ? deps : [deps];
    const changed = list.filter((id) => previous[id]?.key !== graph.byId.get(id)!.key);
    if (changed.length === 0) reasons.push(`${role} reordered, added or removed`);
    else reasons.push(...changed.slice(0, 3).map((id) => `${id} changed`), ...(changed.length > 3 ? [`and ${changed.length - 3} more ${changed.length === 4 ? role.replace(/s$/, "") : role}`] : []));
  }
  return reasons.length ? reasons : ["inputs changed"];
}
