import { Transform } from "node:stream";
/**
 * One interface for every team-cache backend. Paths are `cas/<sha256>` (a
 * blob, named by the sha256 of its bytes) or `ac/<node key>` (an action
 * entry), the layout of the Bazel HTTP cache protocol, so nginx with WebDAV,
 * bazel-remote, an S3 bucket and a shared folder all hold the same thing.
 */
export type RemotePath = `cas/${string}` | `ac/${string}`;

export interface RemoteStore {
  /** Where the cache is, with any credentials removed: safe to print. */
  readonly location: string;
  /** The bytes at a path, or null when there are none. */
  get(path: RemotePath): Promise<Buffer | null>;
  /** Whether something is stored at a path. */
  has(path: RemotePath): Promise<boolean>;
  put(path: RemotePath, body: Buffer): Promise<void>;
  /**
   * Blobs can be large (a story's video): they travel as streams between the
   * store and a file, never whole in memory. `download` writes the bytes at a
   * path to `file`, at most `limit` of them (a wrong blob must not fill the
   * disk), and says false when there are none.
   */
  download(path: RemotePath, file: string, limit: number): Promise<boolean>;
  upload(path: RemotePath, file: string, size: number): Promise<void>;
  /** Releases connections; the store is not used after. */
  close(): Promise<void>;
}

/**
 * Why a backend could not answer. `unavailable` (down, unreachable, timed out)
 * makes the build stop asking the cache; `refused` (a 401/403/405 on a write)
 * stops the writes only.
 */
export type RemoteFailureKind = "unavailable" | "refused";

/** A failed request, with a message that never holds a credential. */
export class RemoteStoreError extends Error {
  constructor(
    readonly kind: RemoteFailureKind,
    message: string,
  ) {
    super(message);
  }
}

/** Timeouts of every request, so that a slow cache costs seconds, never the build. */
export interface RemoteTimeouts {
  /** Connecting, and waiting for the response's headers. */
  connectMs: number;
  /** The whole request, body included. */
  requestMs: number;
}

export const DEFAULT_TIMEOUTS: RemoteTimeouts = { connectMs: 5_000, requestMs: 60_000 };

/** Passes on at most `limit` bytes and drops the rest, so that a blob of the wrong size is caught without being stored whole. */
export function atMost(limit: number): Transform {
  let passed = 0;
  return new Transform({
    transform(chunk: Buffer, _encoding, done) {
      if (passed < limit) this.push(chunk.subarray(0, limit - passed));
      passed += chunk.length;
      done();
    },
  });
}
