import { spawn, type ChildProcess } from "node:child_process";
import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";

export type LaunchRequest = { type: "run"; id: number; command: string; args: string[] } | { type: "kill"; id: number; signal: NodeJS.Signals };

export type LaunchReply =
  | { type: "stdout" | "stderr"; id: number; text: string }
  | { type: "error"; id: number; message: string }
  | { type: "close"; id: number; code: number | null; signal: NodeJS.Signals | null };

/** What a launched command reports; `error` (it could not start) or `close` comes once, last. */
export interface LaunchHandlers {
  stdout(text: string): void;
  stderr(text: string): void;
  error(message: string): void;
  close(code: number | null, signal: NodeJS.Signals | null): void;
}

export interface Launched {
  kill(signal: NodeJS.Signals): void;
}

/**
 * Starts a command with stdin closed and its output piped back as text.
 *
 * Starting a process costs its parent in proportion to the parent's memory:
 * the kernel copies its page tables, then the child discards them. storyc
 * holds a few hundred MB mid-build (libvips, the speech threads), which made
 * each of a build's ffmpeg starts cost 10 ms of storyc's own thread and 20 ms
 * in all, against 1 and 2 ms from a process of 45 MB. So ffmpeg is started by
 * a small launcher process of storyc's (launcher-process.ts), itself started
 * while storyc is still small. Run from its TypeScript sources, where the
 * launcher has no compiled entry, storyc starts commands itself.
 */
export function launch(command: string, args: string[], on: LaunchHandlers): Launched {
  const server = launcher();
  return server ? server.run(command, args, on) : launchHere(command, args, on);
}

/** Builds that hold the launcher (holdLauncher), and whether storyc watch keeps it regardless. */
let holders = 0;
let kept = false;

/**
 * A build holds the launcher from its start, while storyc is still small, to its
 * end: several stories built at once share it, and it ends with the last of them.
 */
export function holdLauncher(): void {
  holders++;
  launcher();
}

/** storyc watch keeps its launcher from one build to the next. */
export function keepLauncher(): void {
  kept = true;
  launcher();
}

/**
 * The end of a build that held the launcher. When no build holds it any more,
 * it ends and storyc waits for it, so that no process of storyc's outlives it
 * and the commands' CPU time is counted as storyc's (by time(1), a CI runner's
 * accounting), as that of children of its own would be.
 */
export async function releaseLauncher(): Promise<void> {
  holders = Math.max(0, holders - 1);
  if (holders > 0 || kept || !current || current.busy) return;
  const stopping = current;
  current = undefined;
  await stopping.stop();
}

function launchHere(command: string, args: string[], on: LaunchHandlers): Launched {
  let child: ChildProcess;
  try {
    child = spawn(command, args, { stdio: ["ignore", "pipe", "pipe"] });
  } catch (error) {
    queueMicrotask(() => on.error((error as Error).message));
    return { kill: () => undefined };
  }
  child.stdout!.setEncoding("utf8").on("data", on.stdout);
  child.stderr!.setEncoding("utf8").on("data", on.stderr);
  child.on("error", (error) => on.error(error.message));
  child.on("close", on.close);
  return { kill: (signal) => child.kill(signal) };
}

class Launcher {
  private next = 0;
  private readonly pending = new Map<number, LaunchHandlers>();

  constructor(
    private readonly child: ChildProcess,
    onStop: () => void,
  ) {
    child.on("message", (reply: LaunchReply) => {
      const handlers = this.pending.get(reply.id);
      if (!handlers) return;
      switch (reply.type) {
        case "stdout":
        case "stderr":
          return handlers[reply.type](reply.text);
        case "error":
        case "close":
          this.pending.delete(reply.id);
          this.rest();
          return reply.type === "error" ? handlers.error(reply.message) : handlers.close(reply.code, reply.signal);
      }
    });
    const stop = (why: string) => {
      onStop();
      const waiting = [...this.pending.values()];
      this.pending.clear();
      for (const handlers of waiting) handlers.error(`the process launcher stopped (${why})`);
    };
    child.on("error", (error) => stop(error.message));
    child.on("exit", (code, signal) => stop(signal ?? `exit ${code}`));
    this.rest();
  }

  /** Whether a command is running (one started outside any build's hold, say). */
  get busy(): boolean {
    return this.pending.size > 0;
  }

  run(command: string, args: string[], on: LaunchHandlers): Launched {
    const id = this.next++;
    this.pending.set(id, on);
    // While a command runs, storyc waits for it, as it would for a child of its own.
    this.child.channel?.ref();
    this.send({ type: "run", id, command, args });
    return { kill: (signal) => this.pending.has(id) && this.send({ type: "kill", id, signal }) };
  }

  /** Closes the channel, which ends the launcher, and waits for it to exit (killed if it has not within two seconds). */
  async stop(): Promise<void> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return;
    const exited = new Promise<void>((resolve) => this.child.once("exit", () => resolve()));
    this.child.ref();
    if (this.child.connected) this.child.disconnect();
    const timer = setTimeout(() => this.child.kill("SIGKILL"), 2000);
    await exited;
    clearTimeout(timer);
  }

  private send(request: LaunchRequest): void {
    if (this.child.connected) this.child.send(request);
  }

  /** With nothing running, the launcher does not keep storyc alive; it ends when storyc does. */
  private rest(): void {
    if (this.pending.size === 0) this.child.channel?.unref();
  }
}

let current: Launcher | null | undefined;

function launcher(): Launcher | null {
  if (current !== undefined) return current;
  const entry = fileURLToPath(new URL("./launcher-process.js", import.meta.url));
  if (!existsSync(entry)) return (current = null);
  const child = spawn(process.execPath, [entry], { stdio: ["ignore", "ignore", "inherit", "ipc"], serialization: "json" });
  child.unref();
  // A launcher that stopped is started again for the next command.
  const made: Launcher = new Launcher(child, () => {
    if (current === made) current = undefined;
  });
  return (current = made);
}
