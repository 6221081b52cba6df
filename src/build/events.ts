import type { LockOwner } from "../lock/writer-lock.js";
import type { Plan } from "./plan.js";

/** What a build says while it runs. Reporters turn these into text, a task tree or JSON lines. */
export type BuildEvent =
  | { type: "lock-wait"; owner: LockOwner | null }
  | { type: "plan"; plan: Plan }
  | { type: "node-start"; id: string; label: string }
  | { type: "node-progress"; id: string; fraction: number; message?: string }
  | { type: "node-done"; id: string; label: string; durationMs: number; restored: boolean }
  | { type: "node-failed"; id: string; label: string; error: string }
  | { type: "node-cancelled"; id: string; label: string }
  | { type: "cancelling"; reason: string }
  | { type: "outputs"; files: string[] }
  | { type: "finished"; summary: BuildSummary };

export interface BuildSummary {
  ok: boolean;
  /** Nodes the renderer made in this build. */
  rendered: string[];
  /** Nodes whose outputs came back from the cache (a reverted edit, a moved scene). */
  restored: string[];
  /** Nodes that were already up to date. */
  fresh: string[];
  removed: string[];
  failed: Array<{ id: string; error: string }>;
  cancelled: string[];
  /** Nodes not started because of a failure or cancellation. */
  skipped: string[];
  durationMs: number;
  outputs: string[];
  /**
   * For a paid renderer: the plan's estimate, and the credits the API reported
   * spent on the nodes made in this build (null when it reported none).
   */
  credits?: { estimated: number; used: number | null; remaining: number };
}

export type EventSink = (event: BuildEvent) => void;
