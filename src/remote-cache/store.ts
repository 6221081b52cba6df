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
