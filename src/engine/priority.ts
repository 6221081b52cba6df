import type { BuildGraph, GraphNode, NodeKind } from "../graph/nodes.js";
import { depIds } from "../graph/nodes.js";

/**
 * The graph's nodes, those with the most work still to follow them first:
 * each node's weight plus the heaviest chain of nodes that read it (the
 * critical path, as ninja and Bazel schedule). A build then starts the stills
 * and narrations that unlock the long clip encodes before the music, which
 * only the final video reads. Ties keep the graph's order.
 */
export function criticalPathOrder(graph: BuildGraph, weight: (kind: NodeKind) => number): GraphNode[] {
  const chain = new Map<string, number>();
  // The graph lists every node after the nodes it reads, so walking it backwards sees readers first.
  for (const node of [...graph.nodes].reverse()) {
    const total = weight(node.kind) + (chain.get(node.id) ?? 0);
    chain.set(node.id, total);
    for (const d of depIds(node)) chain.set(d, Math.max(chain.get(d) ?? 0, total));
  }
  return graph.nodes
    .map((node, index) => ({ node, index, chain: chain.get(node.id)! }))
    .sort((a, b) => b.chain - a.chain || a.index - b.index)
    .map((x) => x.node);
}
