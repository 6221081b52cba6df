import type { NodeInputs } from "../graph/inputs.js";
import type { BuildGraph, GraphNode, NodeKind, RendererIdentity, ToolchainOf } from "../graph/nodes.js";
import type { RemoteRecord } from "../lock/lockfile.js";
import type { ResolvedSettings } from "../story/types.js";

/** The output of a finished dependency, as a renderer sees it. */
export interface DepOutput {
  id: string;
  /** Output name -> absolute path of the (read-only) cached bytes. */
  files: Record<string, string>;
  meta: Record<string, string | number | boolean>;
  /** Where a paid renderer's remote copy is (ids and URLs), when the lockfile or this build knows it. */
  remote?: RemoteRecord;
}

/**
 * What a renderer sees of a node: its id, its key and its typed inputs. No
 * position, no story, no settings beyond those in the inputs: everything a
 * renderer can read is covered by the key.
 */
export type RenderNode<K extends NodeKind = NodeKind> = K extends NodeKind ? { id: string; kind: K; key: string; inputs: NodeInputs[K] } : never;

export interface RenderInput<K extends NodeKind = NodeKind> {
  node: RenderNode<K>;
  /** Outputs of the node's dependencies, by the role names of the node's deps. */
  deps: Record<string, DepOutput | DepOutput[]>;
  /**
   * The local files the inputs name (image_url, music_url), by sha256: paths of
   * read-only copies in the cache whose bytes were checked against the hash the key holds.
   */
  media: Record<string, string>;
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
  /**
   * Asks the engine for one more of the build's job slots, for work this node
   * can do beside what it is doing (a clip's second piece). Absent where the
   * engine lends none (a farm worker, several stories sharing one pool).
   */
  extraSlot?(): SlotRequest;
}

/**
 * A request for a job slot. The engine grants it as it starts nodes: when a
 * slot is free and no waiting node ahead of the asking one in its order needs
 * it, so a node never takes a slot from more pressing work.
 */
export interface SlotRequest {
  /** Resolves when the slot is granted; never, once the request is withdrawn. */
  readonly granted: Promise<void>;
  /** Gives the slot back once granted, or withdraws the request; once is enough, more is harmless. */
  release(): void;
}

export interface Memo {
  /** The path of the file stored under this key, if any. */
  get(key: string): Promise<string | null>;
  /** Moves a file into the store under a key and returns the path of the stored copy. */
  put(key: string, file: string): Promise<string>;
}

/**
 * What a renderer learns before the first node runs: only what earlier builds
 * recorded of paid work (never the story, the plan or the graph).
 */
export interface BuildContext {
  /** Remote records of finished nodes, from the lockfile (ids and URLs of paid work). */
  remote: Record<string, RemoteRecord | undefined>;
  /** Paid work asked for and not finished, whose key still matches. */
  pending: Record<string, RemoteRecord>;
  /** Keys of the nodes the build was told to make again (--force): no earlier result may stand in for them. */
  forced: string[];
  signal: AbortSignal;
}

export interface BatchInput {
  key: string;
  inputs: RenderInput[];
  /**
   * Members of the batch that need no work, with their outputs: a request that
   * must restate them (a scene's unchanged narration beside its new image) can.
   */
  peers: DepOutput[];
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
  /**
   * What identifies the tools that make each node (an ffmpeg build, the fonts), for
   * its key. Asked once per build or plan, before the graph is made.
   */
  toolchain?(cacheDir: string): Promise<ToolchainOf>;
  /** The inputs this renderer uses of a node's (see GraphOptions.inputsFor): what it ignores stays out of the key. */
  inputsFor?<K extends NodeKind>(kind: K, inputs: NodeInputs[K]): NodeInputs[K];
  /** Whether the video's crossfades and pieces of sound are nodes of their own (GraphOptions.videoPieces). */
  videoPieces?: boolean;
  /** Whether rendering costs money; plans then show the estimated credits. */
  paid: boolean;
  /** Checks that the renderer can run here (tools present, key set) before anything starts. */
  prepare?(signal: AbortSignal): Promise<void>;
  estimateCredits?(node: GraphNode, settings: ResolvedSettings): number;
  /** How long a node of this kind takes next to the others (1 when absent): the engine starts the longest chains first. */
  weight?(kind: NodeKind): number;
  /**
   * Looks at the nodes a plan would make, before anything runs: notes for the plan
   * (how a local file will reach a cloud API, say) and what must stop the build
   * before any paid work starts, with what the user can do about it.
   */
  review?(nodes: ReadonlyArray<RenderNode>): RendererReview;
  /**
   * Nodes made together by one piece of remote work (one request for several
   * nodes): the engine runs a batch as one job once all its waiting members
   * are ready, and hands them to renderBatch together. Undefined: alone.
   */
  batchOf?(node: RenderNode): string | undefined;
  /** Renders a batch; one result or error per input, in the order given. */
  renderBatch?(batch: BatchInput): Promise<Array<RenderResult | Error>>;
  /** Called once before the first node renders. */
  begin?(context: BuildContext): Promise<void>;
  render(input: RenderInput): Promise<RenderResult>;
  /** Called once after the build, for renderers that hold resources. */
  dispose?(): Promise<void>;
}

export interface RendererReview {
  /** By node id: lines the plan shows under that node. */
  notes: Record<string, string[]>;
  /** Reasons not to start: the build stops before any work, and the plan says why. */
  blocking: Array<{ message: string; hint: string }>;
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
