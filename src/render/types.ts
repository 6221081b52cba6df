import type { Plan } from "../build/plan.js";
import type { BuildGraph, GraphNode, RendererIdentity } from "../graph/nodes.js";
import type { RemoteRecord } from "../lock/lockfile.js";
import type { ResolvedSettings, Story } from "../story/types.js";

/** The output of a finished dependency, as a renderer sees it. */
export interface DepOutput {
  id: string;
  /** Output name -> absolute path of the (read-only) cached bytes. */
  files: Record<string, string>;
  meta: Record<string, string | number | boolean>;
}

export interface RenderInput {
  node: GraphNode;
  story: Story;
  storyFile: string;
  settings: ResolvedSettings;
  /** Outputs of the node's dependencies, by the role names of `node.deps`. */
  deps: Record<string, DepOutput | DepOutput[]>;
  /** An empty folder for the renderer's files; what it returns is moved into the cache. */
  workDir: string;
  signal: AbortSignal;
  progress(fraction: number, message?: string): void;
  /**
   * Paid remote work: `pending` is what an earlier, interrupted build
   * recorded for this very key (poll it, do not pay again); `recordPending`
   * writes the lockfile before the call returns, so a crash right after a
   * paid request still knows about it.
   */
  pending: RemoteRecord | undefined;
  /** Records remote work for this node, or for the nodes named (one request may serve several). */
  recordPending(remote: RemoteRecord, nodeIds?: string[]): Promise<void>;
  /**
   * A content-addressed memo for intermediate files a renderer can reuse across
   * builds (a crossfade between two unchanged clips, say), kept in the cache.
   */
  memo: Memo;
}

export interface Memo {
  /** The path of the file stored under this key, if any. */
  get(key: string): Promise<string | null>;
  /** Moves a file into the store under a key and returns the path of the stored copy. */
  put(key: string, file: string): Promise<string>;
}

/** What a renderer learns before the first node runs: the whole plan and what earlier builds recorded. */
export interface BuildContext {
  graph: BuildGraph;
  plan: Plan;
  story: Story;
  storyFile: string;
  settings: ResolvedSettings;
  /** Remote records of finished nodes, from the lockfile (ids and URLs of paid work). */
  remote: Record<string, RemoteRecord | undefined>;
  /** Paid work asked for and not finished, whose key still matches. */
  pending: Record<string, RemoteRecord>;
  signal: AbortSignal;
}

export interface RenderResult {
  /** Files in workDir (or elsewhere) to keep, by output name. */
  files: Array<{ name: string; path: string }>;
  meta?: Record<string, string | number | boolean>;
  remote?: RemoteRecord;
  /** Who made it, when another machine did (a render farm's worker), for progress and events. */
  worker?: string;
}

/** A way of turning graph nodes into files: the local animatic, the cloud API, or the test renderer. */
export interface Renderer {
  identity: RendererIdentity;
  /** Options that change outputs (quality...), part of every key. */
  options: Record<string, unknown>;
  /** Whether rendering costs money; plans then show the estimated credits. */
  paid: boolean;
  /** Checks that the renderer can run here (tools present, key set) before anything starts. */
  prepare?(signal: AbortSignal): Promise<void>;
  estimateCredits?(node: GraphNode, settings: ResolvedSettings): number;
  /** Called once before the first node renders. */
  begin?(context: BuildContext): Promise<void>;
  render(input: RenderInput): Promise<RenderResult>;
  /** Called once after the build, for renderers that hold resources. */
  dispose?(): Promise<void>;
}

/** A renderer that cannot run here, with what to do about it. */
export class RendererUnavailableError extends Error {
  constructor(
    message: string,
    readonly hint: string,
  ) {
    super(message);
  }
}
