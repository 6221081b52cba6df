import { openRemoteCache, type RemoteCacheSettings } from "../remote-cache/open.js";
import { RemoteCache, type RemoteCacheWarning } from "../remote-cache/remote-cache.js";
import type { RemoteSummary } from "./events.js";

/** A team cache to open for one build, or one the caller opened and closes (shared by several stories). */
export type TeamCacheOption = RemoteCacheSettings | RemoteCache;

type Opened = { ok: true; remote: RemoteCache | undefined; close(): Promise<void> } | { ok: false; failure: { reason: "remote-cache"; message: string } };

/** Opens the team cache a build or plan was given; a URL storyc cannot use is a failure before anything runs. */
export async function openTeamCache(
  options: { remoteCache?: TeamCacheOption; env?: NodeJS.ProcessEnv },
  projectRoot: string,
  onWarning: (w: RemoteCacheWarning) => void,
): Promise<Opened> {
  const given = options.remoteCache;
  if (!given) return { ok: true, remote: undefined, close: async () => undefined };
  if (given instanceof RemoteCache) return { ok: true, remote: given, close: async () => undefined };
  const opened = await openRemoteCache(given, { env: options.env ?? process.env, baseDir: projectRoot, onWarning });
  if (!opened.ok) return { ok: false, failure: { reason: "remote-cache", message: opened.message } };
  return { ok: true, remote: opened.cache, close: () => opened.cache.close() };
}

export function remoteSummary(remote: RemoteCache, nodes: string[], warnings: number): RemoteSummary {
  return {
    location: remote.location,
    readonly: remote.readonly,
    nodes,
    downloadedBytes: remote.stats.downloadedBytes,
    uploadedBytes: remote.stats.uploadedBytes,
    warnings,
  };
}
