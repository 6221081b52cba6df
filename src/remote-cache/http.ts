import { createReadStream, createWriteStream } from "node:fs";
import { pipeline } from "node:stream/promises";
import { Agent, request } from "undici";
import { atMost, DEFAULT_TIMEOUTS, RemoteStoreError, type RemotePath, type RemoteStore, type RemoteTimeouts } from "./store.js";
import { redactUrl } from "./redact.js";

/**
 * The Bazel HTTP cache protocol: GET, PUT and HEAD of `<url>/cas/<sha256>`
 * and `<url>/ac/<key>`. bazel-remote, BuildBuddy and nginx with WebDAV
 * (`dav_methods PUT; create_full_put_path on;`) serve it unchanged.
 *
 * Credentials: a bearer token (from STORYC_REMOTE_CACHE_TOKEN) or the user
 * and password of the URL, sent as a header and removed from every URL this
 * module prints.
 */
export class HttpStore implements RemoteStore {
  readonly location: string;
  private readonly base: string;
  private readonly headers: Record<string, string> = {};
  private readonly agent: Agent;
  private readonly timeouts: RemoteTimeouts;

  constructor(url: string, options: { token?: string; timeouts?: RemoteTimeouts } = {}) {
    const timeouts = (this.timeouts = options.timeouts ?? DEFAULT_TIMEOUTS);
    const parsed = new URL(url);
    if (options.token) this.headers.authorization = `Bearer ${options.token}`;
    else if (parsed.username || parsed.password) {
      const user = safeDecode(parsed.username);
      const password = safeDecode(parsed.password);
      this.headers.authorization = `Basic ${Buffer.from(`${user}:${password}`).toString("base64")}`;
    }
    parsed.username = "";
    parsed.password = "";
    this.base = parsed.href.replace(/\/+$/, "");
    this.location = redactUrl(url);
    this.agent = new Agent({
      // A plan asks about every node at once: queue those requests on a few connections rather than open hundreds.
      connections: 16,
      connect: { timeout: timeouts.connectMs },
      headersTimeout: timeouts.connectMs + timeouts.requestMs,
      bodyTimeout: timeouts.requestMs,
    });
  }

  async get(path: RemotePath): Promise<Buffer | null> {
    const res = await this.found(path);
    if (!res) return null;
    try {
      return Buffer.from(await res.body.arrayBuffer());
    } catch (error) {
      throw this.networkError("GET", path, error);
    }
  }

  async download(path: RemotePath, file: string, limit: number): Promise<boolean> {
    const res = await this.found(path);
    if (!res) return false;
    try {
      await pipeline(res.body, atMost(limit), createWriteStream(file));
      return true;
    } catch (error) {
      throw this.networkError("GET", path, error);
    }
  }

  /** The answer to a GET whose body is there to read, or null for a 404. */
  private async found(path: RemotePath) {
    const res = await this.send("GET", path);
    if (res.statusCode === 200) return res;
    await res.body.dump();
    if (res.statusCode === 404) return null;
    throw this.statusError("GET", path, res.statusCode);
  }

  async has(path: RemotePath): Promise<boolean> {
    const res = await this.send("HEAD", path);
    await res.body.dump();
    if (res.statusCode === 404) return false;
    if (res.statusCode >= 200 && res.statusCode < 300) return true;
    throw this.statusError("HEAD", path, res.statusCode);
  }

  async put(path: RemotePath, body: Buffer): Promise<void> {
    await this.sendPut(path, body, body.length);
  }

  async upload(path: RemotePath, file: string, size: number): Promise<void> {
    await this.sendPut(path, createReadStream(file), size);
  }

  private async sendPut(path: RemotePath, body: Buffer | NodeJS.ReadableStream, size: number): Promise<void> {
    const res = await this.send("PUT", path, { body, size });
    await res.body.dump();
    if (res.statusCode >= 200 && res.statusCode < 300) return;
    throw this.statusError("PUT", path, res.statusCode);
  }

  async close(): Promise<void> {
    await this.agent.close();
  }

  private async send(method: "GET" | "HEAD" | "PUT", path: RemotePath, upload?: { body: Buffer | NodeJS.ReadableStream; size: number }) {
    try {
      return await request(`${this.base}/${path}`, {
        method,
        dispatcher: this.agent,
        headers: { ...this.headers, ...(upload ? { "content-type": "application/octet-stream", "content-length": String(upload.size) } : {}) },
        ...(upload ? { body: upload.body as Buffer } : {}),
        signal: AbortSignal.timeout(this.timeouts.connectMs + this.timeouts.requestMs),
      });
    } catch (error) {
      throw this.networkError(method, path, error);
    }
  }

  /** A write refused (no permission, no PUT) stops writes; anything else means the cache is not usable now. */
  private statusError(method: string, path: RemotePath, status: number): RemoteStoreError {
    const refused = method === "PUT" && [401, 403, 405, 413].includes(status);
    return new RemoteStoreError(refused ? "refused" : "unavailable", `${method} ${this.location}/${shortPath(path)} answered ${status}`);
  }

  /** Only the error's code or class name: undici's messages may quote the request. */
  private networkError(method: string, path: RemotePath, error: unknown): RemoteStoreError {
    const e = error as { code?: unknown; name?: unknown };
    const why = typeof e?.code === "string" ? e.code : typeof e?.name === "string" ? e.name : "network error";
    return new RemoteStoreError("unavailable", `${method} ${this.location}/${shortPath(path)} failed: ${why}`);
  }
}

/** A URL's user or password as typed; a malformed %-escape is kept as it is rather than thrown. */
function safeDecode(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
}

/** `cas/1a2b3c4d…`: enough of a hash to recognise it in a message. */
export function shortPath(path: RemotePath): string {
  const [kind, hash] = path.split("/");
  return `${kind}/${(hash ?? "").slice(0, 12)}…`;
}
