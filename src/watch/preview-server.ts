import { createReadStream } from "node:fs";
import { stat } from "node:fs/promises";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { FAVICON, PREVIEW_PAGE } from "./preview-page.js";
import type { PreviewState } from "./preview-model.js";

const TYPES: Record<string, string> = { video: "video/mp4", scene: "image/png", poster: "image/jpeg", subtitles: "text/vtt; charset=utf-8" };

/**
 * Serves the preview on 127.0.0.1: the page, its server-sent events, and
 * only this story's current video and scene stills, looked up by route in a
 * table the watcher fills (no path from the request ever reaches the disk).
 */
export class PreviewServer {
  private server: Server | null = null;
  private readonly clients = new Set<ServerResponse>();
  private hosts = new Set<string>();
  url = "";

  constructor(private readonly state: PreviewState) {}

  listen(port: number, host = "127.0.0.1"): Promise<string> {
    return new Promise((resolve, reject) => {
      const server = createServer((req, res) => void this.handle(req, res));
      server.once("error", reject);
      server.listen(port, host, () => {
        this.server = server;
        const bound = (server.address() as AddressInfo).port;
        this.url = `http://${host}:${bound}/`;
        this.hosts = new Set([`${host}:${bound}`, `localhost:${bound}`]);
        resolve(this.url);
      });
    });
  }

  /** Sends the current model to every open page. */
  broadcast(): void {
    const payload = `event: update\ndata: ${JSON.stringify(this.state.model)}\n\n`;
    for (const client of this.clients) client.write(payload);
  }

  async close(): Promise<void> {
    for (const client of this.clients) client.end();
    this.server?.closeAllConnections();
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    // A page from another site that rebinds its name to 127.0.0.1 sends its own name as Host: it gets nothing.
    if (!this.hosts.has((req.headers.host ?? "").toLowerCase())) {
      return void res.writeHead(421, { "content-type": "text/plain" }).end("this preview answers only to its own address\n");
    }
    const path = new URL(req.url ?? "/", "http://localhost").pathname;
    if (req.method !== "GET" && req.method !== "HEAD") return void res.writeHead(405).end();
    if (path === "/favicon.ico" || path === "/favicon.svg") {
      res.writeHead(200, { "content-type": "image/svg+xml", "cache-control": "max-age=86400" }).end(FAVICON);
      return;
    }
    if (path === "/") {
      res.writeHead(200, { "content-type": "text/html; charset=utf-8", "cache-control": "no-store" }).end(PREVIEW_PAGE);
      return;
    }
    if (path === "/status") {
      res.writeHead(200, { "content-type": "application/json", "cache-control": "no-store" }).end(JSON.stringify(this.state.model));
      return;
    }
    if (path === "/events") {
      res.writeHead(200, { "content-type": "text/event-stream", "cache-control": "no-store", connection: "keep-alive" });
      res.write(`event: update\ndata: ${JSON.stringify(this.state.model)}\n\n`);
      this.clients.add(res);
      req.on("close", () => this.clients.delete(res));
      return;
    }
    const file = this.state.files.get(path);
    if (!file) return void res.writeHead(404, { "content-type": "text/plain" }).end("not found");
    await this.sendFile(req, res, file, TYPES[path.split("/")[2]!] ?? "application/octet-stream");
  }

  /** A file with Range support, which browsers use to seek in a video. */
  private async sendFile(req: IncomingMessage, res: ServerResponse, file: string, type: string): Promise<void> {
    const info = await stat(file).catch(() => null);
    if (!info) return void res.writeHead(404).end();
    const range = /^bytes=(\d*)-(\d*)$/.exec(req.headers.range ?? "");
    if (range) {
      const start = range[1] ? Number(range[1]) : Math.max(0, info.size - Number(range[2]));
      const end = range[1] && range[2] ? Math.min(Number(range[2]), info.size - 1) : info.size - 1;
      if (start > end || start >= info.size) return void res.writeHead(416, { "content-range": `bytes */${info.size}` }).end();
      res.writeHead(206, { "content-type": type, "content-length": end - start + 1, "content-range": `bytes ${start}-${end}/${info.size}`, "accept-ranges": "bytes", "cache-control": "no-store" });
      if (req.method === "HEAD") return void res.end();
      createReadStream(file, { start, end }).pipe(res);
      return;
    }
    res.writeHead(200, { "content-type": type, "content-length": info.size, "accept-ranges": "bytes", "cache-control": "no-store" });
    if (req.method === "HEAD") return void res.end();
    createReadStream(file).pipe(res);
  }
}
