import { Listr, type ListrTask } from "listr2";
import type { BuildEvent } from "../build/events.js";
import type { Plan } from "../build/plan.js";
import type { Palette } from "./color.js";
import { formatSummary, lockWaitMessage, remoteWarning, seconds, type BuildReporter } from "./build-reporters.js";
import { planSummary } from "./plan-text.js";

interface Waiter {
  resolve(): void;
  reject(error: Error): void;
  setOutput?: (text: string) => void;
  setTitle?: (text: string) => void;
}

/**
 * A live task tree on a terminal: one task per node to render, grouped by
 * scene. listr2 draws it; build events settle the tasks.
 */
export class ListrReporter implements BuildReporter {
  private readonly waiters = new Map<string, Waiter>();
  private readonly settled = new Map<string, { ok: boolean; error?: string; title?: string }>();
  private running: Promise<unknown> | null = null;
  private summary = "";
  /** Shown after the task tree, which owns the terminal while it runs. */
  private readonly warnings: string[] = [];

  constructor(
    private readonly write: (text: string) => void,
    private readonly p: Palette,
    private readonly show: (path: string) => string = (x) => x,
  ) {}

  onEvent(e: BuildEvent): void {
    switch (e.type) {
      case "lock-wait":
        this.write(`${lockWaitMessage(e)}\n`);
        break;
      case "plan":
        this.write(`${planSummary(e.plan)}\n`);
        this.start(e.plan);
        break;
      case "node-progress":
        this.waiters.get(e.id)?.setOutput?.(`${Math.round(e.fraction * 100)}%${e.message ? ` ${e.message}` : ""}`);
        break;
      case "node-done":
        if (!e.restored) this.settle(e.id, { ok: true, title: `${e.label} ${this.p.dim(`(${seconds(e.durationMs)}${e.worker ? ` on ${e.worker}` : ""})`)}` });
        break;
      case "node-failed":
        this.settle(e.id, { ok: false, error: e.error });
        break;
      case "node-cancelled":
        this.settle(e.id, { ok: false, error: "cancelled" });
        break;
      case "remote-cache-warning":
        this.warnings.push(remoteWarning(e, this.p));
        break;
      case "finished":
        for (const id of this.waiters.keys()) this.settle(id, { ok: false, error: "not started" });
        this.summary = formatSummary(e.summary, this.p, this.show);
        break;
      default:
        break;
    }
  }

  private settle(id: string, outcome: { ok: boolean; error?: string; title?: string }): void {
    const waiter = this.waiters.get(id);
    if (!waiter) {
      if (!this.settled.has(id)) this.settled.set(id, outcome);
      return;
    }
    this.waiters.delete(id);
    if (outcome.title) waiter.setTitle?.(outcome.title);
    if (outcome.ok) waiter.resolve();
    else waiter.reject(new Error(outcome.error ?? "failed"));
  }

  private start(plan: Plan): void {
    const work = plan.items.filter((i) => i.action === "create" || i.action === "update");
    if (work.length === 0) return;
    const groups = new Map<string, typeof work>();
    for (const item of work) {
      const group = item.id.startsWith("scene/") ? item.id.split("/").slice(0, 2).join("/") : item.id.startsWith("element/") ? "elements" : item.id;
      if (!groups.has(group)) groups.set(group, []);
      groups.get(group)!.push(item);
    }
    const nodeTask = (item: (typeof work)[number]): ListrTask => ({
      title: item.label,
      task: (_ctx, task) =>
        new Promise<void>((resolve, reject) => {
          const early = this.settled.get(item.id);
          if (early) {
            if (early.title) task.title = early.title;
            return early.ok ? resolve() : reject(new Error(early.error ?? "failed"));
          }
          this.waiters.set(item.id, {
            resolve,
            reject,
            setOutput: (text) => (task.output = text),
            setTitle: (text) => (task.title = text),
          });
        }),
    });
    // A scene's group is titled like its nodes' labels without the last word: `scene "hop"`.
    const groupTitle = (group: string, items: typeof work) => (group.startsWith("scene/") ? items[0]!.label.replace(/\s+\S+$/, "") : group);
    const tasks: ListrTask[] = [...groups.entries()].map(([group, items]) =>
      items.length === 1
        ? nodeTask(items[0]!)
        : { title: groupTitle(group, items), task: (_ctx, task) => task.newListr(items.map(nodeTask), { concurrent: true, exitOnError: false }) },
    );
    const list = new Listr(tasks, { concurrent: true, exitOnError: false, rendererOptions: { collapseSubtasks: true } });
    this.running = list.run().catch(() => undefined);
  }

  async close(): Promise<void> {
    await this.running;
    for (const warning of this.warnings) this.write(`${warning}\n`);
    if (this.summary) this.write(`${this.summary}\n`);
  }
}
