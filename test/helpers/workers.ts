import { spawn, type ChildProcess } from "node:child_process";
import { binPath } from "./cli.js";
import { Changes } from "./wait.js";

/** A `storyc worker` process, as a farm machine runs it. */
export interface WorkerProcess {
  name: string;
  pid: number;
  /** Everything it printed so far. */
  stdout(): string;
  stderr(): string;
  /** Resolves when the worker has printed `text` (bounded: rejects after `ms`, naming it). */
  said(text: string, ms?: number): Promise<void>;
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
  const changes = new Changes();
  child.stdout!.on("data", (d: Buffer) => {
    out += d.toString();
    changes.notify();
  });
  child.stderr!.on("data", (d: Buffer) => (err += d.toString()));
  const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
  let running = true;
  void exited.then(() => {
    running = false;
    changes.notify();
  });
  const said = async (text: string, ms = 20_000) => {
    await changes.until(() => out.includes(text) || !running, `worker ${args.name} to print "${text}"`, ms, () => out + err);
    if (!out.includes(text)) throw new Error(`worker ${args.name} exited before printing "${text}": ${out}${err}`);
  };
  try {
    await said("waiting for nodes");
  } catch (error) {
    child.kill("SIGKILL");
    throw error;
  }
  return {
    said,
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
