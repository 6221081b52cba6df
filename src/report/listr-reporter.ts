import { Listr, ListrTaskState, type ListrTask } from "listr2";
import type { BuildEvent } from "../engine/events.js";
import type { Plan } from "../engine/plan.js";
import type { Palette } from "./color.js";
import { formatSummary, lockWaitMessage, remoteWarning, seconds, type BuildReporter } from "./build-reporters.js";
import { planSummary } from "./plan-text.js";
import { safe, safeLines } from "./terminal-text.js";

type Outcome = { kind: "done"; title?: string } | { kind: "failed"; error: string } | { kind: "skipped"; why: string };

interface Waiter {
  settle(outcome: Outcome): void;
  start(): void;
}

/**
 * A live task tree on a terminal: one task per node to render, grouped by
 * scene. listr2 draws it; build events drive the tasks. Only a node the
 * build has started spins; one still queued shows as waiting; a failed node
 * keeps its name with the error under it. Ctrl-C is the CLI's to handle, not
 * listr2's (which would exit 127 and lose the summary).
 */
export class ListrReporter implements BuildReporter {
  private readonly waiters = new Map<string, Waiter>();
  private readonly started = new Set<string>();
  private readonly settled = new Map<string, Outcome>();
  private running: Promise<unknown> | null = null;
  private summary = "";
  private cancelling = false;
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
      case "node-start":
        this.started.add(e.id);
        this.waiters.get(e.id)?.start();
        break;
      case "node-progress":
        this.outputs.get(e.id)?.(`${Math.round(e.fraction * 100)}%${e.message ? ` ${safe(e.message)}` : ""}`);
        break;
      case "node-done":
        if (!e.restored) this.settle(e.id, { kind: "done", title: `${safe(e.label)} ${this.p.dim(`(${seconds(e.durationMs)}${e.worker ? ` on ${safe(e.worker)}` : ""})`)}` });
        break;
      case "node-failed":
        this.settle(e.id, { kind: "failed", error: safeLines(e.error) });
        break;
      case "node-cancelled":
        this.settle(e.id, { kind: "skipped", why: "cancelled" });
        break;
      case "cancelling":
        this.cancelling = true;
        break;
      case "remote-cache-warning":
        this.warnings.push(remoteWarning(e, this.p));
        break;
      case "finished":
        for (const id of [...this.waiters.keys()]) this.settle(id, { kind: "skipped", why: this.cancelling ? "not started: cancelled" : "not started" });
        this.summary = formatSummary(e.summary, this.p, this.show);
        break;
      default:
        break;
    }
  }

  private readonly outputs = new Map<string, (text: string) => void>();

  private settle(id: string, outcome: Outcome): void {
    const waiter = this.waiters.get(id);
    if (!waiter) {
      if (!this.settled.has(id)) this.settled.set(id, outcome);
      return;
    }
    this.waiters.delete(id);
    this.outputs.delete(id);
    waiter.settle(outcome);
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
    // A group whose nodes were stopped says so, instead of a green tick over nothing rendered.
    type Group = { title: string; setTitle(title: string): void; marked: boolean };
    const markStopped = (group: Group | undefined, why: string) => {
      if (!group || group.marked) return;
      group.marked = true;
      group.setTitle(`${group.title} ${this.p.yellow(`(${why})`)}`);
    };
    const nodeTask = (item: (typeof work)[number], group?: Group): ListrTask => ({
      title: safe(item.label),
      task: (_ctx, task) =>
        new Promise<void>((resolve, reject) => {
          const settle = (outcome: Outcome) => {
            if (outcome.kind === "done") {
              task.task.state$ = ListrTaskState.STARTED;
              if (outcome.title) task.title = outcome.title;
              resolve();
            } else if (outcome.kind === "failed") {
              task.task.state$ = ListrTaskState.STARTED;
              markStopped(group, "failed");
              reject(new Error(outcome.error));
            } else {
              markStopped(group, "stopped");
              task.skip(outcome.why);
              resolve();
            }
          };
          const early = this.settled.get(item.id);
          if (early) return settle(early);
          // listr2 starts every task at once; a node the build has not started yet is shown as waiting.
          if (!this.started.has(item.id)) task.task.state$ = ListrTaskState.WAITING;
          this.outputs.set(item.id, (text) => (task.output = text));
          this.waiters.set(item.id, { settle, start: () => (task.task.state$ = ListrTaskState.STARTED) });
        }),
    });
    // A scene's group is titled like its nodes' labels without the last word: `scene "hop"`.
    const groupTitle = (group: string, items: typeof work) => safe(group.startsWith("scene/") ? items[0]!.label.replace(/\s+\S+$/, "") : group);
    const tasks: ListrTask[] = [...groups.entries()].map(([group, items]) =>
      items.length === 1
        ? nodeTask(items[0]!)
        : {
            title: groupTitle(group, items),
            task: (_ctx, task) => {
              const handle: Group = { title: groupTitle(group, items), setTitle: (t) => (task.title = t), marked: false };
              return task.newListr(
                items.map((item) => nodeTask(item, handle)),
                { concurrent: true, exitOnError: false },
              );
            },
          },
    );
    const list = new Listr(tasks, {
      concurrent: true,
      exitOnError: false,
      registerSignalListeners: false,
      rendererOptions: { collapseSubtasks: true, collapseErrors: false, collapseSkips: false, showSkipMessage: true, showErrorMessage: true },
    });
    this.running = list.run().catch(() => undefined);
  }

  async close(): Promise<void> {
    await this.running;
    for (const warning of this.warnings) this.write(`${warning}\n`);
    if (this.summary) this.write(`${this.summary}\n`);
  }
}
