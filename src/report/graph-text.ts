import type { BuildGraph } from "../graph/nodes.js";
import { depIds } from "../graph/nodes.js";
import { safe } from "./terminal-text.js";

/** The dependency graph as a Mermaid flowchart (GitHub renders it in Markdown). */
export function graphToMermaid(graph: BuildGraph): string {
  const ids = new Map(graph.nodes.map((n, i) => [n.id, `n${i}`]));
  const lines = ["flowchart LR"];
  for (const node of graph.nodes) lines.push(`  ${ids.get(node.id)}["${safe(node.id).replace(/"/g, "#quot;")}"]`);
  for (const node of graph.nodes) for (const dep of depIds(node)) lines.push(`  ${ids.get(dep)} --> ${ids.get(node.id)}`);
  return lines.join("\n") + "\n";
}

/** The dependency graph in Graphviz DOT. */
export function graphToDot(graph: BuildGraph): string {
  const q = (s: string) => `"${safe(s).replace(/\\/g, "\\\\").replace(/"/g, '\\"')}"`;
  const lines = ["digraph story {", "  rankdir=LR;", "  node [shape=box];"];
  for (const node of graph.nodes) lines.push(`  ${q(node.id)};`);
  for (const node of graph.nodes) for (const dep of depIds(node)) lines.push(`  ${q(dep)} -> ${q(node.id)};`);
  lines.push("}");
  return lines.join("\n") + "\n";
}
