/** The team cache: one interface (RemoteStore), three backends, and the build-facing RemoteCache. */
export { openRemoteCache, resolveRemoteCacheSettings, type RemoteCacheSettings, type OpenResult } from "./open.js";
export { RemoteCache, type RemoteCacheWarning, type RemoteCacheStats, type FetchOutcome } from "./remote-cache.js";
export { redactUrl } from "./redact.js";
export type { RemoteStore, RemotePath } from "./store.js";
export type { ActionEntry } from "./entry.js";
