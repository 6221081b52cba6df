import type { LockOwner } from "../lock/writer-lock.js";
import type { Plan } from "./plan.js";

/** What a build says while it runs. Reporters turn these into text, a task tree or JSON lines. */
export type BuildEvent =
  | { type: "lock-wait"; owner: LockOwner | null }
  | { type: "plan"; plan: Plan }
  | { type: "node-start"; id: string; label: string }
  | { type: "node-progress"; id: string; fraction: number; message?: string }
  /**
   * `remote`: restored by the team cache's action entry (its bytes come down only if something needs them).
   * `worker`: the render farm's worker that made it (builds with a queue).
   */
  | { type: "node-done"; id: string; label: string; durationMs: number; restored: boolean; remote?: boolean; worker?: string }
  /** A node done by the team cache whose bytes were needed here, downloaded and verified. */
  | { type: "node-downloaded"; id: string; label: string; bytes: number }
  /** The team cache could not be used for something (down, refused a write, a bad blob, an untrusted entry); the build goes on. */
  | { type: "remote-cache-warning"; reason: "unavailable" | "refused" | "corrupt" | "untrusted"; message: string }
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
  /** With a team cache: what it did for this build. */
  remote?: RemoteSummary;
}

export interface RemoteSummary {
  /** Where it is, without credentials. */
  location: string;
  readonly: boolean;
  /** Nodes done by the team cache (an action entry, or bytes the lockfile names). */
  nodes: string[];
  downloadedBytes: number;
  uploadedBytes: number;
  /** Warnings it cost (each kind reported once). */
  warnings: number;
}

export type EventSink = (event: BuildEvent) => void;
