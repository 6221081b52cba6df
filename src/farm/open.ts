import type { ProjectSettings } from "../project/config.js";
import { checkQueueUrl, QueueUnavailableError } from "./connection.js";
import type { FarmClient } from "./farm-client.js";

/** A build's farm settings that cannot work, before anything connects: for the CLI's usage errors. */
export function farmUsageProblem(settings: Pick<ProjectSettings, "queue" | "renderer" | "remoteCache">): { message: string; hint: string } | null {
  if (!settings.queue) return null;
  const url = checkQueueUrl(settings.queue);
  if (!url.ok) return { message: url.message, hint: "start Redis and workers as the README's render farm section shows" };
  if (settings.renderer !== "local" && settings.renderer !== "test") {
    return { message: `--queue sends nodes to workers, which run free renderers only; the ${settings.renderer} renderer's paid calls stay with this process`, hint: "build without --queue (or STORYC_QUEUE, queue: in storyc.config.yaml)" };
  }
  if (!settings.remoteCache) return { message: "--queue needs a remote cache: the workers read their inputs from it and write their outputs to it", hint: "add --remote-cache URL (or STORYC_REMOTE_CACHE, remote_cache in storyc.config.yaml), the one the workers use" };
  if (settings.remoteCache.readonly) return { message: "--queue needs a writable remote cache: this build puts the workers' inputs there", hint: "drop --remote-cache-readonly (STORYC_REMOTE_CACHE_READONLY) for builds on the farm" };
  return null;
}

export type OpenFarmResult = { ok: true; farm: FarmClient } | { ok: false; message: string };

/** Connects a build to the farm; an unreachable Redis is a message naming the URL (its password redacted), after a bounded wait. */
export async function openFarm(url: string, env: NodeJS.ProcessEnv): Promise<OpenFarmResult> {
  // Loaded only with --queue: BullMQ and ioredis are large, and most builds never need them.
  const { FarmClient } = await import("./farm-client.js");
  try {
    return { ok: true, farm: await FarmClient.open(url, env) };
  } catch (error) {
    if (error instanceof QueueUnavailableError) return { ok: false, message: error.message };
    throw error;
  }
}
