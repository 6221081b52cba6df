import type { NodeInputs } from "./inputs.js";

/** The kinds of node in a story's build graph. */
export type NodeKind = keyof NodeInputs;

/** What a renderer is, as far as build keys are concerned. */
export interface RendererIdentity {
  name: string;
  version: string;
}

/** A node of the build graph: one output that a renderer makes from its inputs. */
export type GraphNode<K extends NodeKind = NodeKind> = K extends NodeKind ? NodeOf<K> : never;

interface NodeOf<K extends NodeKind> {
  /** Stable name: element/characters/Bunny, music, title, scene/hop/image, video. */
  id: string;
  kind: K;
  /** A short human name for messages: `scene "hop" image`. */
  label: string;
  /**
   * Everything that can change the output, by name: the node's own fields,
   * the settings it reads, files it reads (by content hash). No positions.
   */
  inputs: NodeInputs[K];
  /**
   * The nodes this one reads, by role. A role holds one id or a list, in the
   * order that matters (the video's clips are in scene order; a scene image's
   * elements are sorted, since their order in the text does not matter).
   */
  deps: Record<string, string | string[]>;
  /** sha256 over kind, format, renderer, inputs and the keys of deps. */
  key: string;
  /** Short hashes of each input, renderer and dependency, kept in the lockfile to explain changes. */
  digests: Record<string, string>;
  /**
   * Index of the scene this node belongs to, for the engine and the cloud stages that batch scenes.
   * Not handed to renderers: a scene's position is an input of the video alone.
   */
  scene?: number;
}

export interface BuildGraph {
  /** In dependency order: every node comes after the nodes it reads. */
  nodes: GraphNode[];
  byId: Map<string, GraphNode>;
  renderer: RendererIdentity;
}

/** What identifies the tools that make a node from these inputs, for its key (undefined: nothing beyond the renderer's version). */
export type ToolchainOf = <K extends NodeKind>(kind: K, inputs: NodeInputs[K]) => unknown;

export function depIds(node: GraphNode): string[] {
  return Object.values(node.deps).flatMap((d) => (Array.isArray(d) ? d : [d]));
}
