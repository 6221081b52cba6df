import type { BuildEvent, BuildSummary } from "../engine/events.js";
import type { Palette } from "./color.js";
import { planSummary } from "./plan-text.js";
import { safe, safeLines } from "./terminal-text.js";
import { plural } from "./diagnostics.js";

/** Turns build events into output. `close` waits until everything is shown. */
export interface BuildReporter {
  onEvent(event: BuildEvent): void;
  close(): Promise<void>;
}

type Write = (text: string) => void;

/** One line per step, for CI logs and anything that is not a terminal. */
export class PlainReporter implements BuildReporter {
  private total = 0;
  private finished = 0;

  constructor(
    private readonly write: Write,
    private readonly p: Palette,
    private readonly show: (path: string) => string = (x) => x,
  ) {}

  onEvent(e: BuildEvent): void {
    switch (e.type) {
      case "lock-wait":
        this.write(`${lockWaitMessage(e)}\n`);
        break;
      case "plan":
        this.total = e.plan.counts.create + e.plan.counts.update;
        this.write(`${planSummary(e.plan)}\n`);
        break;
      case "node-start":
        this.write(`${this.p.dim("  started")} ${safe(e.label)}\n`);
        break;
      case "node-done":
        if (e.restored && e.remote) {
          this.write(`${this.p.dim("[remote]")} ${safe(e.label)} restored from the remote cache\n`);
        } else if (e.restored) {
          this.write(`${this.p.dim("[cache]")} ${safe(e.label)} restored from the cache\n`);
        } else {
          this.finished++;
          this.write(`${this.p.dim(`[${this.finished}/${this.total}]`)} ${this.p.green("✓")} ${safe(e.label)} ${this.p.dim(`(${seconds(e.durationMs)}${e.worker ? ` on ${safe(e.worker)}` : ""})`)}\n`);
        }
        break;
      case "node-downloaded":
        this.write(`${this.p.dim("[remote]")} ${e.label} downloaded ${this.p.dim(`(${formatBytes(e.bytes)})`)}\n`);
        break;
      case "remote-cache-warning":
        this.write(`${remoteWarning(e, this.p)}\n`);
        break;
      case "node-failed":
        this.write(`${this.p.red("✗")} ${safe(e.label)}: ${safeLines(e.error)}\n`);
        break;
      case "node-cancelled":
        this.write(`${this.p.yellow("-")} ${safe(e.label)} cancelled\n`);
        break;
      case "cancelling":
        this.write(`${this.p.yellow(e.reason)}: starting nothing new, keeping what finished; press Ctrl-C again to stop at once\n`);
        break;
      case "finished":
        this.write(`${formatSummary(e.summary, this.p, this.show)}\n`);
        break;
      default:
        break;
    }
  }

  async close(): Promise<void> {}
}

/** Newline-delimited JSON: one event per line, for machines. */
export class JsonReporter implements BuildReporter {
  constructor(private readonly write: Write) {}

  onEvent(e: BuildEvent): void {
    const { type, ...rest } = e;
    if (type === "plan") {
      const plan = e.plan;
      this.write(
        JSON.stringify({
          type,
          counts: plan.counts,
          credits: plan.credits,
          items: plan.items.map(({ id, action, reasons, credits, notes }) => ({ id, action, reasons, ...(credits ? { credits } : {}), ...(notes ? { notes } : {}) })),
          ...(plan.blocking ? { blocking: plan.blocking } : {}),
        }) + "\n",
      );
      return;
    }
    this.write(JSON.stringify({ type, ...rest }) + "\n");
  }

  async close(): Promise<void> {}
}

export function lockWaitMessage(e: Extract<BuildEvent, { type: "lock-wait" }>): string {
  return `waiting for ${e.owner ? `storyc (pid ${e.owner.pid})` : "another storyc"} to finish building this story...`;
}

export function seconds(ms: number): string {
  return ms < 1000 ? `${Math.round(ms)}ms` : `${(ms / 1000).toFixed(1)}s`;
}

export function formatSummary(s: BuildSummary, p: Palette, show: (path: string) => string = (x) => x): string {
  const parts = [`${s.rendered.length} rendered`, `${s.restored.length} restored from the cache`, `${s.fresh.length} fresh`];
  if (s.removed.length) parts.push(`${s.removed.length} removed`);
  if (s.failed.length) parts.push(p.red(`${s.failed.length} failed`));
  if (s.cancelled.length) parts.push(p.yellow(`${s.cancelled.length} cancelled`));
  if (s.skipped.length) parts.push(`${s.skipped.length} not started`);
  if (s.remote) parts.push(`${s.remote.nodes.length} from the remote cache (${formatBytes(s.remote.downloadedBytes)} down, ${formatBytes(s.remote.uploadedBytes)} up${s.remote.readonly ? ", read-only" : ""})`);
  const head = s.ok ? p.green("Built") : s.cancelled.length || s.failed.length === 0 ? p.yellow("Stopped") : p.red("Failed");
  const out = s.outputs.length ? `\n${s.outputs.map((o) => `  ${safe(show(o))}`).join("\n")}` : "";
  const left = s.credits?.remaining ? `; the remaining work needs about ${plural(s.credits.remaining, "credit")}` : "";
  const credits = s.credits && (s.credits.estimated > 0 || s.credits.used) ? `\nCredits: ${s.credits.used === null ? "none reported" : `${s.credits.used} used`} (estimated ${s.credits.estimated})${left}` : "";
  return `${head} in ${seconds(s.durationMs)}: ${parts.join(", ")}${credits}${out}`;
}

export function remoteWarning(e: Extract<BuildEvent, { type: "remote-cache-warning" }>, p: Palette): string {
  return `${p.yellow("warning")}: ${e.message}`;
}

/** 1234567 -> "1.2 MB": byte counts people read. */
export function formatBytes(n: number): string {
  if (n < 1000) return `${n} B`;
  const units = ["kB", "MB", "GB", "TB"];
  let value = n / 1000;
  let unit = 0;
  while (value >= 1000 && unit < units.length - 1) {
    value /= 1000;
    unit++;
  }
  return `${value < 10 ? value.toFixed(1) : Math.round(value)} ${units[unit]}`;
}
