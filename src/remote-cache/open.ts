import { isAbsolute, resolve } from "node:path";
import { FolderStore } from "./folder.js";
import { redactUrl } from "./redact.js";
import { RemoteCache, type RemoteCacheWarning } from "./remote-cache.js";
import { DEFAULT_TIMEOUTS, type RemoteStore, type RemoteTimeouts } from "./store.js";

/** Where the team cache is and how to use it, as the command line, the project config and the environment say. */
export interface RemoteCacheSettings {
  /** `http(s)://host/path`, `s3://bucket/prefix`, or a folder. */
  url: string;
  readonly?: boolean;
}

/** The flag wins over the environment, which wins over storyc.config.yaml. Read-only if either flag or environment says so. */
export function resolveRemoteCacheSettings(
  flags: { remoteCache?: string; remoteCacheReadonly?: boolean },
  config: { remote_cache?: string },
  env: NodeJS.ProcessEnv,
): RemoteCacheSettings | undefined {
  const url = flags.remoteCache ?? (env.STORYC_REMOTE_CACHE || undefined) ?? config.remote_cache;
  if (!url) return undefined;
  const readonly = Boolean(flags.remoteCacheReadonly) || ["1", "true", "yes"].includes((env.STORYC_REMOTE_CACHE_READONLY ?? "").toLowerCase());
  return { url, readonly };
}

export type OpenResult = { ok: true; cache: RemoteCache } | { ok: false; message: string };

/**
 * Opens the backend a URL names. Secrets come from the environment only:
 * STORYC_REMOTE_CACHE_TOKEN (bearer), the URL's user and password,
 * STORYC_REMOTE_CACHE_SIGNING_KEY, and the AWS chain for s3://.
 */
export async function openRemoteCache(
  settings: RemoteCacheSettings,
  options: { env: NodeJS.ProcessEnv; baseDir: string; onWarning?: (w: RemoteCacheWarning) => void; timeouts?: RemoteTimeouts },
): Promise<OpenResult> {
  const { env } = options;
  const timeouts = options.timeouts ?? timeoutsFrom(env);
  const token = env.STORYC_REMOTE_CACHE_TOKEN || undefined;
  const signingKey = env.STORYC_REMOTE_CACHE_SIGNING_KEY || undefined;
  const secrets: string[] = [token, signingKey].filter((s): s is string => Boolean(s));
  let store: RemoteStore;
  const spec = settings.url;
  if (/^https?:\/\//i.test(spec)) {
    let url: URL;
    try {
      url = new URL(spec);
    } catch {
      return { ok: false, message: `the remote cache ${redactUrl(spec)} is not a valid URL` };
    }
    if (url.password) secrets.push(url.password, safeDecode(url.password));
    // Loaded only for http(s)://: undici takes a tenth of a second to load, which every build without a team cache would pay.
    const { HttpStore } = await import("./http.js");
    store = new HttpStore(spec, { ...(token ? { token } : {}), ...(timeouts ? { timeouts } : {}) });
  } else if (/^s3:\/\//i.test(spec)) {
    if (!/^s3:\/\/[a-z0-9][a-z0-9.-]{1,61}[a-z0-9](\/|$)/.test(spec)) return { ok: false, message: `the remote cache ${redactUrl(spec)} does not name an S3 bucket (s3://bucket/prefix)` };
    // Loaded only for s3://: the SDK is large, and most builds never need it.
    const { S3Store } = await import("./s3.js");
    if (env.AWS_SECRET_ACCESS_KEY) secrets.push(env.AWS_SECRET_ACCESS_KEY);
    store = new S3Store(spec, env, timeouts);
  } else if (/^[a-z][a-z0-9+.-]*:\/\//i.test(spec)) {
    return { ok: false, message: `the remote cache ${redactUrl(spec)} has a scheme storyc does not know: use http(s)://, s3:// or a folder` };
  } else {
    store = new FolderStore(isAbsolute(spec) ? spec : resolve(options.baseDir, spec));
  }
  return {
    ok: true,
    cache: new RemoteCache(store, {
      readonly: Boolean(settings.readonly),
      ...(signingKey ? { signingKey } : {}),
      secrets,
      ...(options.onWarning ? { onWarning: options.onWarning } : {}),
    }),
  };
}

function safeDecode(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
}

/**
 * STORYC_REMOTE_CACHE_TIMEOUT (seconds): how long one request may take
 * before the cache counts as down for this build. Connecting gets at most 5 s.
 */
function timeoutsFrom(env: NodeJS.ProcessEnv): RemoteTimeouts | undefined {
  const seconds = Number(env.STORYC_REMOTE_CACHE_TIMEOUT);
  if (!env.STORYC_REMOTE_CACHE_TIMEOUT || !Number.isFinite(seconds) || seconds <= 0) return undefined;
  const ms = Math.round(seconds * 1000);
  return { connectMs: Math.min(ms, DEFAULT_TIMEOUTS.connectMs), requestMs: ms };
}
