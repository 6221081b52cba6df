import { createServer, type Server, type Socket } from "node:net";

/** A node the test renderer holds until the test says go. */
export interface HeldNode {
  id: string;
  /** The process rendering it: a build, or one of a farm's workers. */
  pid: number;
  go(): void;
  fail(): void;
  /** Resolves when the build cancelled this node while it was held. */
  aborted: Promise<void>;
}

/**
 * The test's side of the test renderer's control protocol (src/render/test-renderer.ts):
 * every node the build starts arrives here and waits for the test's word.
 * Every wait is bounded and says what it waited for.
 */
export class RenderControl {
  private readonly server: Server;
  private readonly arrived: HeldNode[] = [];
  private readonly waiters: Array<(node: HeldNode) => void> = [];
  private readonly sockets = new Set<Socket>();
  /** host:port, for STORYC_TEST_CONTROL (STORYC_TEST_CONTROL_NODES limits which nodes wait). */
  address = "";
  private autoGo = false;

  constructor() {
    this.server = createServer((socket) => this.accept(socket));
  }

  async listen(): Promise<this> {
    await new Promise<void>((resolve) => this.server.listen(0, "127.0.0.1", () => resolve()));
    this.address = `127.0.0.1:${(this.server.address() as { port: number }).port}`;
    return this;
  }

  /** While on, every node that arrives (and every one held now) is told to go at once. */
  releaseAll(on: boolean): void {
    this.autoGo = on;
    if (on) for (const node of this.arrived.splice(0)) node.go();
  }

  /** The next node the build starts, in the order they arrive. */
  next(timeoutMs = 20_000): Promise<HeldNode> {
    const ready = this.arrived.shift();
    if (ready) return Promise.resolve(ready);
    return bounded(new Promise((resolve) => this.waiters.push(resolve)), timeoutMs, "the build to start a node");
  }

  async close(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private accept(socket: Socket): void {
    this.sockets.add(socket);
    socket.on("close", () => this.sockets.delete(socket));
    socket.on("error", () => undefined);
    let buffer = "";
    let onAbort: () => void = () => undefined;
    const aborted = new Promise<void>((resolve) => (onAbort = resolve));
    socket.on("data", (chunk) => {
      buffer += chunk.toString();
      let at: number;
      while ((at = buffer.indexOf("\n")) >= 0) {
        const message = JSON.parse(buffer.slice(0, at)) as { started?: string; pid?: number; aborted?: string };
        buffer = buffer.slice(at + 1);
        if (message.started) {
          const node: HeldNode = { id: message.started, pid: message.pid ?? 0, go: () => socket.write("go\n"), fail: () => socket.write("fail\n"), aborted: bounded(aborted, 20_000, `${message.started} to be cancelled`) };
          node.aborted.catch(() => undefined);
          const waiter = this.waiters.shift();
          if (this.autoGo) node.go();
          else if (waiter) waiter(node);
          else this.arrived.push(node);
        }
        if (message.aborted) onAbort();
      }
    });
  }
}

/** A promise that rejects after `ms`, naming what it waited for. */
export function bounded<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout;
  const timeout = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`waited ${ms} ms for ${what}`)), ms)));
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}
