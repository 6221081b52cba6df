import { spawn, type ChildProcess } from "node:child_process";
import type { LaunchReply, LaunchRequest } from "./launcher.js";

/**
 * The launcher's own process (launcher.ts): it starts the commands it is
 * sent and reports their output and exit. Small, so that each start is cheap.
 * When storyc goes, by any means, the channel closes and the commands still
 * running are stopped with it.
 */
const running = new Map<number, ChildProcess>();

/** storyc has gone: what still runs is stopped with it. */
function stop(): void {
  for (const child of running.values()) child.kill("SIGTERM");
  process.exit(0);
}

// A reply that finds the channel closed (storyc died between two of them) stops everything too: an
// unanswered send error would end this process with the commands still running.
const send = (reply: LaunchReply) => {
  if (!process.connected) return stop();
  process.send!(reply, (error: Error | null) => error && stop());
};

process.on("message", (request: LaunchRequest) => {
  if (request.type === "kill") {
    running.get(request.id)?.kill(request.signal);
    return;
  }
  const { id } = request;
  let child: ChildProcess;
  try {
    child = spawn(request.command, request.args, { stdio: ["ignore", "pipe", "pipe"] });
  } catch (error) {
    send({ type: "error", id, message: (error as Error).message });
    return;
  }
  running.set(id, child);
  child.stdout!.setEncoding("utf8").on("data", (text: string) => send({ type: "stdout", id, text }));
  child.stderr!.setEncoding("utf8").on("data", (text: string) => send({ type: "stderr", id, text }));
  child.on("error", (error) => {
    running.delete(id);
    send({ type: "error", id, message: error.message });
  });
  child.on("close", (code, signal) => {
    running.delete(id);
    send({ type: "close", id, code, signal });
  });
});

process.on("disconnect", stop);
