import { spawn, type ChildProcess } from "node:child_process";
import { binPath } from "./cli.js";

/** A `storyc worker` process, as a farm machine runs it. */
export interface WorkerProcess {
  name: string;
  pid: number;
  /** Everything it printed so far. */
  stdout(): string;
  stderr(): string;
  /** Lines `rendered <id> in ...` so far, by node id. */
  rendered(): string[];
  /** Resolves with the exit code (null after a signal). */
  exited: Promise<number | null>;
  /** SIGKILL, as a machine that dies. */
  kill(): Promise<void>;
  /** SIGTERM and a bounded wait for the exit (SIGKILL after 15 s); the code it exited with. */
  stop(): Promise<number | null>;
}

/** Starts a worker and waits (bounded) until it says it is waiting for nodes. */
export async function startWorker(args: { queue: string; remoteCache: string; name: string; cacheDir: string; renderer?: string; env?: NodeJS.ProcessEnv; concurrency?: number }): Promise<WorkerProcess> {
  const child: ChildProcess = spawn(
    process.execPath,
    [binPath, "worker", "--queue", args.queue, "--remote-cache", args.remoteCache, "--name", args.name, "--cache-dir", args.cacheDir, "--renderer", args.renderer ?? "test", "--concurrency", String(args.concurrency ?? 1)],
    { env: { ...process.env, NO_COLOR: "1", ...args.env }, stdio: ["ignore", "pipe", "pipe"] },
  );
  let out = "";
  let err = "";
  child.stdout!.on("data", (d: Buffer) => (out += d.toString()));
  child.stderr!.on("data", (d: Buffer) => (err += d.toString()));
  const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
  let running = true;
  void exited.then(() => (running = false));
  const deadline = Date.now() + 20_000;
  while (!out.includes("waiting for nodes")) {
    if (!running || Date.now() > deadline) {
      child.kill("SIGKILL");
      throw new Error(`worker ${args.name} did not start: ${out}${err}`);
    }
    await new Promise((r) => setTimeout(r, 20));
  }
  return {
    name: args.name,
    pid: child.pid!,
    stdout: () => out,
    stderr: () => err,
    rendered: () => [...out.matchAll(/^rendered (.+) in [\d.]+s$/gm)].map((m) => m[1]!),
    exited,
    async kill() {
      if (running) child.kill("SIGKILL");
      await exited;
    },
    async stop() {
      if (!running) return exited;
      child.kill("SIGTERM");
      const timer = setTimeout(() => child.kill("SIGKILL"), 15_000);
      const code = await exited;
      clearTimeout(timer);
      return code;
    },
  };
}

/** Waits for a condition, checking every 20 ms, at most `ms`; throws with `what` when it never holds. */
export async function until<T>(what: string, check: () => T | Promise<T>, ms = 30_000): Promise<NonNullable<T>> {
  const deadline = Date.now() + ms;
  for (;;) {
    const value = await check();
    if (value) return value as NonNullable<T>;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}
