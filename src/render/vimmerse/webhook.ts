import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";

/**
 * Receives the Story API's webhook on 127.0.0.1. A webhook is only a hint:
 * it wakes the poller, which confirms with a GET, so a forged or lost
 * webhook can neither finish nor stall a build.
 */
export class WebhookReceiver {
  private server: Server | null = null;
  private waiters = new Map<string, Array<() => void>>();
  url = "";

  listen(port: number, host = "127.0.0.1"): Promise<void> {
    return new Promise((resolve, reject) => {
      const server = createServer((req, res) => {
        let body = "";
        req.on("data", (d: Buffer) => {
          body += d.toString();
          if (body.length > 64_000) req.destroy();
        });
        req.on("end", () => {
          let id = "";
          try {
            id = String((JSON.parse(body) as { batch_id?: unknown }).batch_id ?? "");
          } catch {
            // not JSON: answer all the same, it changes nothing
          }
          res.writeHead(200, { "content-type": "application/json" }).end('{"ok":true}');
          for (const wake of this.waiters.get(id) ?? []) wake();
          this.waiters.delete(id);
        });
      });
      server.once("error", reject);
      server.listen(port, host, () => {
        this.server = server;
        this.url = `http://${host}:${(server.address() as AddressInfo).port}/storyc-webhook`;
        resolve();
      });
    });
  }

  /** Resolves at the next webhook about this story. */
  next(storyId: string): Promise<void> {
    return new Promise((resolve) => {
      const list = this.waiters.get(storyId) ?? [];
      list.push(resolve);
      this.waiters.set(storyId, list);
    });
  }

  close(): Promise<void> {
    return new Promise((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }
}
