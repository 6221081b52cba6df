import { copyFile, rm } from "node:fs/promises";
import { dirname, join, resolve } from "node:path";
import { localMediaOf } from "../graph/inputs.js";
import type { BuildGraph, GraphNode } from "../graph/nodes.js";
import { depIds } from "../graph/nodes.js";
import type { Cache, StoredOutput } from "../lock/cache.js";
import { writeLockfile, type Lockfile, type RemoteRecord } from "../lock/lockfile.js";
import type { ResolvedSettings, Story } from "../story/types.js";
import { hashJson } from "../graph/hash.js";
import type { DepOutput, Memo, Renderer, RenderInput, RenderNode, RenderResult, SlotRequest } from "../render/types.js";
import type { EventSink } from "./events.js";
import type { Plan } from "./plan.js";
import type { FetchOutcome, RemoteCache } from "../remote-cache/remote-cache.js";
import type { JobPool, MadeNode } from "./pool.js";
import { ExtraSlots } from "./extra-slots.js";
import { criticalPathOrder } from "./priority.js";

/** How many nodes' blobs come down from the team cache at once (downloads wait on the network, not the CPU). */
const FETCH_CONCURRENCY = 8;

export interface ExecuteContext {
  graph: BuildGraph;
  plan: Plan;
  lock: Lockfile;
  lockfilePath: string;
  cache: Cache;
  renderer: Renderer;
  story: Story;
  storyFile: string;
  settings: ResolvedSettings;
  jobs: number;
  keepGoing: boolean;
  signal: AbortSignal;
  emit: EventSink;
  /** The team cache: fresh nodes' bytes come from it when needed, rendered nodes go to it. */
  remote?: RemoteCache;
  /** Shared with the builds of other stories running at the same time. */
  pool?: JobPool;
}

export interface ExecuteResult {
  rendered: string[];
  restored: string[];
  fresh: string[];
  failed: Array<{ id: string; error: string }>;
  cancelled: string[];
  skipped: string[];
  /** Nodes done by the team cache: its action entry, or bytes downloaded from it. */
  remote: string[];
  /** Outputs of every finished node whose bytes are here, by id. */
  outputs: Map<string, DepOutput>;
}

/** `remote`: done, with bytes only in the team cache until a render or the output folder needs them. */
type Status = "waiting" | "running" | "done" | "failed" | "cancelled" | "skipped" | "remote" | "fetching";

/**
 * Runs the stale nodes of a plan in dependency order, independent ones in
 * parallel up to `jobs`. Each finished node's bytes go to the cache and its
 * entry to the lockfile, written atomically before the next step: a crash
 * loses only the nodes in flight. Never throws for a node's failure.
 */
export async function execute(ctx: ExecuteContext): Promise<ExecuteResult> {
  const { graph, plan, lock, cache, emit } = ctx;
  const result: ExecuteResult = { rendered: [], restored: [], fresh: [], failed: [], cancelled: [], skipped: [], remote: [], outputs: new Map() };
  const status = new Map<string, Status>();
  const writer = new LockfileWriter(ctx.lockfilePath, lock);

  for (const item of plan.items) {
    if (item.action === "delete") continue;
    if (item.action === "fresh" && item.reuse) {
      if (item.reuse.fetch) {
        status.set(item.id, "remote");
        result.remote.push(item.id);
      } else {
        status.set(item.id, "done");
        result.outputs.set(item.id, depOutput(cache, item.id, item.reuse.outputs, item.reuse.meta, item.reuse.remote));
      }
      if (item.reuse.from === "cache" || item.reuse.from === "remote") {
        const node = graph.byId.get(item.id)!;
        lock.nodes[item.id] = {
          key: node.key,
          digests: node.digests,
          outputs: item.reuse.outputs.map((o) => cache.lockOutput(o)),
          ...(item.reuse.meta && Object.keys(item.reuse.meta).length ? { meta: item.reuse.meta } : {}),
          // Paid work a teammate did: the record comes with the entry, and the node counts as done.
          ...(item.reuse.remote ? { remote: item.reuse.remote } : {}),
        };
        result.restored.push(item.id);
        emit({ type: "node-done", id: item.id, label: item.label, durationMs: 0, restored: true, ...(item.reuse.from === "remote" ? { remote: true } : {}) });
      } else {
        result.fresh.push(item.id);
      }
      // Made here before the team cache was set up, or while it was down: the team gets it now.
      if (!item.reuse.fetch && item.reuse.from !== "remote") {
        ctx.remote?.share(graph.byId.get(item.id)!.key, { outputs: item.reuse.outputs, meta: item.reuse.meta ?? {}, ...(item.reuse.remote ? { remote: item.reuse.remote } : {}) }, cache);
      }
    } else {
      status.set(item.id, "waiting");
    }
  }
  if (result.restored.length) await writer.write();

  // The renderer begins before its first node: at once when the plan has work, later when a blob from the team cache turns out bad.
  let begun = false;
  const begin = async () => {
    begun = true;
    if (!ctx.renderer.begin) return;
    const pending: Record<string, RemoteRecord> = {};
    for (const [id, p] of Object.entries(lock.pending ?? {})) if (graph.byId.get(id)?.key === p.key) pending[id] = p.remote;
    const remote = Object.fromEntries(Object.entries(lock.nodes).map(([id, e]) => [id, e.remote]));
    try {
      const forced = plan.items.filter((i) => i.reasons.includes("forced")).map((i) => graph.byId.get(i.id)?.key ?? "");
      await ctx.renderer.begin({ remote, pending, forced, signal: ctx.signal });
    } catch (error) {
      for (const item of plan.items) {
        if (status.get(item.id) !== "waiting") continue;
        status.set(item.id, "failed");
        result.failed.push({ id: item.id, error: describeError(error) });
        emit({ type: "node-failed", id: item.id, label: item.label, error: describeError(error) });
      }
    }
  };
  if (plan.items.some((i) => status.get(i.id) === "waiting")) await begin();

  const running = new Map<string, Promise<void>>();
  const fetching = new Set<string>();
  // Slots lent to running nodes count as taken. Several stories share one pool, whose slots are not the executor's to lend.
  const extras = new ExtraSlots();
  const lend = ctx.pool ? undefined : (id: string) => () => extras.request(id);
  const busy = () => running.size - fetching.size + extras.inUse;
  let stopping = false;
  const ready = (node: GraphNode) => depIds(node).every((d) => status.get(d) === "done");
  const blocked = (node: GraphNode) => depIds(node).some((d) => ["failed", "cancelled", "skipped"].includes(status.get(d)!));

  const start = (node: GraphNode) => {
    status.set(node.id, "running");
    const task = runNode(ctx, node, result, writer, lend?.(node.id)).then((outcome) => {
      status.set(node.id, outcome);
      if (outcome === "failed" && !ctx.keepGoing) stopping = true;
      running.delete(node.id);
      extras.drop(node.id);
    });
    running.set(node.id, task);
  };

  /**
   * Builds without the bytes: a node done by the team cache is downloaded
   * only when a node to render depends on it, or it is the video (its files
   * go to the output folder). A blob that fails its check, or is gone, makes
   * the node stale again: it renders like any other.
   */
  const neededFromRemote = (): string[] => {
    const needed = new Set<string>();
    if (status.get("video") === "remote") needed.add("video");
    for (const node of graph.nodes) {
      if (status.get(node.id) !== "waiting") continue;
      for (const d of depIds(node)) if (status.get(d) === "remote") needed.add(d);
    }
    return [...needed];
  };
  const startFetch = (id: string) => {
    const item = plan.items.find((i) => i.id === id)!;
    const reuse = item.reuse!;
    status.set(id, "fetching");
    fetching.add(id);
    const fetched: Promise<FetchOutcome> = ctx.remote ? ctx.remote.fetch(reuse.outputs, cache) : Promise.resolve({ ok: false, reason: "unavailable" });
    const task = fetched.then((outcome) => {
      fetching.delete(id);
      running.delete(id);
      if (outcome.ok) {
        status.set(id, "done");
        result.outputs.set(id, depOutput(cache, id, reuse.outputs, reuse.meta, reuse.remote));
        emit({ type: "node-downloaded", id, label: item.label, bytes: outcome.bytes });
        return;
      }
      // Not usable after all: the node is made here, and no longer counts as reused.
      status.set(id, "waiting");
      for (const list of [result.remote, result.restored, result.fresh]) if (list.includes(id)) list.splice(list.indexOf(id), 1);
    });
    running.set(id, task);
  };

  // Batches: nodes a renderer makes with one piece of remote work are one job of this
  // scheduler, started when every waiting member is ready (no second scheduler in the renderer).
  const batchKeys = new Map<string, string>();
  if (ctx.renderer.batchOf && ctx.renderer.renderBatch) {
    for (const node of graph.nodes) {
      const key = ctx.renderer.batchOf(renderNode(node));
      if (key !== undefined) batchKeys.set(node.id, key);
    }
  }
  const startBatch = (key: string, members: GraphNode[]) => {
    for (const m of members) status.set(m.id, "running");
    const peers = graph.nodes.filter((n) => batchKeys.get(n.id) === key && result.fresh.concat(result.restored).includes(n.id)).map((n) => result.outputs.get(n.id)!);
    const task = runBatch(ctx, key, members, peers, result, writer).then((outcomes) => {
      for (const [i, m] of members.entries()) {
        status.set(m.id, outcomes[i]!);
        if (outcomes[i] === "failed" && !ctx.keepGoing) stopping = true;
      }
      running.delete(`batch:${key}`);
    });
    running.set(`batch:${key}`, task);
  };

  const order = criticalPathOrder(graph, (kind) => ctx.renderer.weight?.(kind) ?? 1);
  const aborted = abortPromise(ctx.signal);
  for (;;) {
    if (ctx.signal.aborted) stopping = true;
    if (!stopping) {
      for (const id of neededFromRemote()) {
        if (fetching.size >= FETCH_CONCURRENCY) break;
        startFetch(id);
      }
      if (!begun && graph.nodes.some((n) => status.get(n.id) === "waiting")) await begin();
      for (const node of order) {
        if (busy() >= ctx.jobs) break;
        // A running node asking for another slot is served at its own place in the order.
        while (status.get(node.id) === "running" && extras.asking(node.id) && busy() < ctx.jobs) extras.grant(node.id);
        if (status.get(node.id) !== "waiting") continue;
        if (blocked(node)) {
          status.set(node.id, "skipped");
          continue;
        }
        const key = batchKeys.get(node.id);
        if (key !== undefined) {
          const members = graph.nodes.filter((n) => batchKeys.get(n.id) === key && status.get(n.id) === "waiting" && !blocked(n));
          if (members.every(ready)) startBatch(key, members);
          continue;
        }
        if (ready(node)) start(node);
      }
    }
    if (running.size === 0) break;
    // Once aborted, wait for the tasks in flight to settle (the abort promise would resolve at once, forever).
    await Promise.race(ctx.signal.aborted ? [...running.values()] : [...running.values(), aborted, extras.next()]);
  }
  for (const node of graph.nodes) if (status.get(node.id) === "waiting" || status.get(node.id) === "skipped") result.skipped.push(node.id);
  await writer.flush();
  return result;
}

function renderNode(node: GraphNode): RenderNode {
  return { id: node.id, kind: node.kind, key: node.key, inputs: node.inputs } as RenderNode;
}

/** What a renderer is handed for one node: its typed inputs, its deps' outputs, verified media, a scratch folder. */
async function renderInput(ctx: ExecuteContext, node: GraphNode, result: ExecuteResult, writer: LockfileWriter, workDir: string, extraSlot?: () => SlotRequest): Promise<RenderInput> {
  const { cache, emit, lock } = ctx;
  const deps: Record<string, DepOutput | DepOutput[]> = {};
  for (const [role, ids] of Object.entries(node.deps)) {
    deps[role] = Array.isArray(ids) ? ids.map((id) => result.outputs.get(id)!) : result.outputs.get(ids)!;
  }
  const pending = lock.pending?.[node.id]?.key === node.key ? lock.pending[node.id]!.remote : undefined;
  return {
    node: renderNode(node),
    deps,
    media: await importMedia(ctx, node, workDir),
    workDir,
    signal: ctx.signal,
    pending,
    memo: cacheMemo(cache, ctx.renderer.identity),
    progress: (fraction, message) => emit({ type: "node-progress", id: node.id, fraction, ...(message ? { message } : {}) }),
    recordPending: async (remote: RemoteRecord, nodeIds?: string[]) => {
      lock.pending ??= {};
      for (const id of nodeIds ?? [node.id]) {
        const target = ctx.graph.byId.get(id);
        if (target) lock.pending[id] = { key: target.key, remote };
      }
      await writer.write();
    },
    ...(extraSlot ? { extraSlot } : {}),
  };
}

/** Runs one batch as one job: every member gets its own outcome, cache entry and lockfile write. */
async function runBatch(ctx: ExecuteContext, key: string, members: GraphNode[], peers: DepOutput[], result: ExecuteResult, writer: LockfileWriter): Promise<Status[]> {
  const started = performance.now();
  for (const node of members) ctx.emit({ type: "node-start", id: node.id, label: node.label });
  const workDirs = await Promise.all(members.map((m) => ctx.cache.scratch(m.id)));
  try {
    let outcomes: Array<RenderResult | Error>;
    try {
      const inputs = await Promise.all(members.map((m, i) => renderInput(ctx, m, result, writer, workDirs[i]!)));
      outcomes = await ctx.renderer.renderBatch!({ key, inputs, peers });
    } catch (error) {
      outcomes = members.map(() => (error instanceof Error ? error : new Error(String(error))));
    }
    const statuses: Status[] = [];
    for (const [i, node] of members.entries()) {
      const outcome = outcomes[i] ?? new Error(`the renderer gave no result for ${node.id}`);
      statuses.push(outcome instanceof Error ? fail(ctx, node, outcome, result) : await finish(ctx, node, outcome, result, writer, started));
    }
    return statuses;
  } finally {
    await Promise.all(workDirs.map((d) => rm(d, { recursive: true, force: true })));
  }
}

function fail(ctx: ExecuteContext, node: GraphNode, error: unknown, result: ExecuteResult): Status {
  if (ctx.signal.aborted) {
    result.cancelled.push(node.id);
    ctx.emit({ type: "node-cancelled", id: node.id, label: node.label });
    return "cancelled";
  }
  const message = describeError(error);
  result.failed.push({ id: node.id, error: message });
  ctx.emit({ type: "node-failed", id: node.id, label: node.label, error: message });
  return "failed";
}

/** Moves what a renderer made into the cache, under the node's key, and sends it to the team cache in the background. */
async function store(ctx: ExecuteContext, node: GraphNode, rendered: RenderResult): Promise<MadeNode> {
  const { cache } = ctx;
  const stored: StoredOutput[] = [];
  for (const file of rendered.files) stored.push(await cache.put(file.path, file.name, { move: true }));
  const meta = rendered.meta ?? {};
  await cache.putAction(node.key, { outputs: stored, meta });
  // In the background: the build goes on, and waits for the uploads before it returns.
  ctx.remote?.upload(node.key, { outputs: stored, meta, ...(rendered.remote ? { remote: rendered.remote } : {}) }, cache);
  return { stored, meta, ...(rendered.remote ? { remote: rendered.remote } : {}), ...(rendered.worker ? { worker: rendered.worker } : {}) };
}

/** A made node's entry in the lockfile, written at once: a crash after this keeps it. */
async function record(ctx: ExecuteContext, node: GraphNode, made: MadeNode, result: ExecuteResult, writer: LockfileWriter): Promise<void> {
  const { cache, lock } = ctx;
  lock.nodes[node.id] = {
    key: node.key,
    digests: node.digests,
    outputs: made.stored.map((o) => cache.lockOutput(o)),
    ...(Object.keys(made.meta).length ? { meta: made.meta } : {}),
    ...(made.remote ? { remote: made.remote } : {}),
  };
  if (lock.pending?.[node.id]) delete lock.pending[node.id];
  result.outputs.set(node.id, depOutput(cache, node.id, made.stored, made.meta, made.remote));
  await writer.write();
}

function rendered(ctx: ExecuteContext, node: GraphNode, made: MadeNode, result: ExecuteResult, started: number): Status {
  result.rendered.push(node.id);
  ctx.emit({ type: "node-done", id: node.id, label: node.label, durationMs: performance.now() - started, restored: false, ...(made.worker ? { worker: made.worker } : {}) });
  return "done";
}

/** Stores one member of a batch and records it. */
async function finish(ctx: ExecuteContext, node: GraphNode, output: RenderResult, result: ExecuteResult, writer: LockfileWriter, started: number): Promise<Status> {
  try {
    const made = await store(ctx, node, output);
    await record(ctx, node, made, result, writer);
    return rendered(ctx, node, made, result, started);
  } catch (error) {
    return fail(ctx, node, error, result);
  }
}

async function runNode(ctx: ExecuteContext, node: GraphNode, result: ExecuteResult, writer: LockfileWriter, extraSlot?: () => SlotRequest): Promise<Status> {
  const { cache, emit } = ctx;
  let started = performance.now();
  const make = async (): Promise<MadeNode> => {
    started = performance.now();
    emit({ type: "node-start", id: node.id, label: node.label });
    const workDir = await cache.scratch(node.id);
    try {
      return await store(ctx, node, await ctx.renderer.render(await renderInput(ctx, node, result, writer, workDir, extraSlot)));
    } finally {
      await rm(workDir, { recursive: true, force: true });
    }
  };
  try {
    // Several stories at once: one pool of slots, and a key two stories share is made once.
    const made = ctx.pool ? await ctx.pool.make(`${cache.dir}\0${node.key}`, make) : { ...(await make()), shared: false };
    await record(ctx, node, made, result, writer);
    if (!made.shared) return rendered(ctx, node, made, result, started);
    result.restored.push(node.id);
    emit({ type: "node-done", id: node.id, label: node.label, durationMs: 0, restored: true });
    return "done";
  } catch (error) {
    return fail(ctx, node, error, result);
  }
}

/**
 * Copies each local file a node's inputs name into the cache and checks the copy
 * against the hash its key was made with, so that the renderer reads exactly the
 * bytes the key covers, even if the file is saved again while the build runs.
 */
async function importMedia(ctx: ExecuteContext, node: GraphNode, workDir: string): Promise<Record<string, string>> {
  const media: Record<string, string> = {};
  for (const ref of localMediaOf(node.kind, node.inputs)) {
    if (media[ref.sha256]) continue;
    const copy = join(workDir, `.media-${ref.sha256.slice(0, 16)}`);
    await copyFile(resolve(dirname(ctx.storyFile), ref.file), copy);
    const stored = await ctx.cache.put(copy, "media", { move: true });
    if (stored.sha256 !== ref.sha256) throw new Error(`${ref.file} changed while the build ran (run the build again to use its new content)`);
    media[ref.sha256] = ctx.cache.blobPath(stored.sha256);
  }
  return media;
}

/**
 * The renderer's memo, kept in the action cache. Keys are scoped by the renderer's
 * identity, so a new renderer version never reuses what an older one memoised.
 */
export function cacheMemo(cache: Cache, renderer: Renderer["identity"]): Memo {
  const actionKey = (key: string) => hashJson({ memo: key, renderer });
  return {
    async get(key) {
      const record = await cache.getAction(actionKey(key));
      const out = record?.outputs[0];
      return out && (await cache.isIntact(out.sha256, out.size)) ? cache.blobPath(out.sha256) : null;
    },
    async put(key, file) {
      const stored = await cache.put(file, "memo", { move: true });
      await cache.putAction(actionKey(key), { outputs: [stored] });
      return cache.blobPath(stored.sha256);
    },
  };
}

/** An error's message, with its hint when it carries one (renderers' typed errors do). */
function describeError(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  const hint = (error as { hint?: unknown })?.hint;
  return typeof hint === "string" && hint ? `${message} (hint: ${hint})` : message;
}

function depOutput(cache: Cache, id: string, outputs: ReadonlyArray<{ name: string; sha256: string }>, meta: Record<string, string | number | boolean> | undefined, remote?: RemoteRecord): DepOutput {
  return { id, files: Object.fromEntries(outputs.map((o) => [o.name, cache.blobPath(o.sha256)])), meta: meta ?? {}, ...(remote ? { remote } : {}) };
}

function abortPromise(signal: AbortSignal): Promise<void> {
  if (signal.aborted) return Promise.resolve();
  return new Promise((resolve) => signal.addEventListener("abort", () => resolve(), { once: true }));
}

/** Serialises lockfile writes: each write saves the state as it is when the write starts. */
export class LockfileWriter {
  private queue: Promise<void> = Promise.resolve();

  constructor(
    private readonly path: string,
    private readonly lock: Lockfile,
  ) {}

  write(): Promise<void> {
    const next = this.queue.then(() => writeLockfile(this.path, this.lock));
    this.queue = next.catch(() => undefined);
    return next;
  }

  flush(): Promise<void> {
    return this.queue;
  }
}
