import { createWriteStream } from "node:fs";
import { pipeline } from "node:stream/promises";
import { Transform } from "node:stream";
import { Agent, interceptors, request } from "undici";
import { TransientError, withRetries } from "./retry.js";

const following = new Agent().compose(interceptors.redirect({ maxRedirections: 3 }));

export const MAX_DOWNLOAD_BYTES = 2 * 1024 ** 3;

export class DownloadError extends Error {}

/** Fetches a generated file (http or https only, at most `maxBytes`) to a path. */
export async function download(url: string, path: string, options: { signal?: AbortSignal; maxBytes?: number; timeoutMs?: number; attempts?: number } = {}): Promise<void> {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new DownloadError(`the API gave a malformed media URL: ${url.slice(0, 80)}`);
  }
  if (parsed.protocol !== "https:" && parsed.protocol !== "http:") throw new DownloadError(`refusing to download ${parsed.protocol} URL ${url.slice(0, 80)}`);
  const max = options.maxBytes ?? MAX_DOWNLOAD_BYTES;
  const attempts = options.attempts ?? 4;
  try {
    await withRetries(
      async () => {
        const timeout = AbortSignal.timeout(options.timeoutMs ?? 300_000);
        let response;
        try {
          response = await request(parsed, { method: "GET", signal: options.signal ? AbortSignal.any([options.signal, timeout]) : timeout, dispatcher: following });
        } catch (error) {
          if (options.signal?.aborted) throw error;
          throw new TransientError((error as Error).message);
        }
        if (response.statusCode !== 200) {
          await response.body.dump();
          if (response.statusCode === 429 || response.statusCode >= 500) throw new TransientError(`HTTP ${response.statusCode}`);
          throw new DownloadError(`download of ${parsed.pathname} failed: HTTP ${response.statusCode}`);
        }
        const declared = Number(response.headers["content-length"] ?? 0);
        if (declared > max) {
          await response.body.dump();
          throw new DownloadError(`${parsed.pathname} is ${declared} bytes, above the ${max}-byte limit`);
        }
        let seen = 0;
        const cap = new Transform({
          transform(chunk: Buffer, _enc, done) {
            seen += chunk.length;
            if (seen > max) done(new DownloadError(`${parsed.pathname} is larger than the ${max}-byte limit`));
            else done(null, chunk);
          },
        });
        try {
          await pipeline(response.body, cap, createWriteStream(path));
        } catch (error) {
          if (error instanceof DownloadError || options.signal?.aborted) throw error;
          // A connection cut mid-body: the next attempt writes the file again from the start.
          throw new TransientError((error as Error).message);
        }
      },
      { attempts: options.attempts ?? 4, backoffMs: 200, signal: options.signal },
    );
  } catch (error) {
    if (error instanceof TransientError) throw new DownloadError(`download of ${parsed.pathname} failed: ${error.reason}`);
    throw error;
  }
}
