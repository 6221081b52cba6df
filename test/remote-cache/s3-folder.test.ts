import { readdir, readFile } from "node:fs/promises";
import { join } from "node:path";
// s3rver is CommonJS without types: an S3-compatible server that runs in this process.
// @ts-expect-error no type declarations
import S3rver from "s3rver";
import { afterEach, describe, expect, it } from "vitest";
import { build, type BuildEvent } from "../../src/engine/build.js";
import { FolderStore } from "../../src/remote-cache/folder.js";
import { RemoteCache } from "../../src/remote-cache/remote-cache.js";
import type { RemotePath, RemoteStore } from "../../src/remote-cache/store.js";
import { TestRenderer } from "../../src/render/test-renderer.js";
import { runBin } from "../helpers/cli.js";
import { freePort } from "../helpers/nginx.js";
import { editStory } from "../helpers/story-dir.js";
import { TempDirs } from "../helpers/story-repo.js";

const temps = new TempDirs();
const stops: Array<() => Promise<void>> = [];
afterEach(async () => {
  await Promise.all(stops.splice(0).map((stop) => stop()));
  await temps.removeAll();
});

async function buildIn(dir: string, url: string | RemoteCache | undefined, env: NodeJS.ProcessEnv, readonly = false) {
  const renderer = new TestRenderer();
  const events: BuildEvent[] = [];
  const remoteCache = typeof url === "string" ? { url, readonly } : url;
  const result = await build(join(dir, "promo.yaml"), { renderer, jobs: 4, ...(remoteCache ? { remoteCache } : {}), env, onEvent: (e) => events.push(e) });
  if (!result.ok) throw new Error(`build failed: ${JSON.stringify(result.failure).slice(0, 400)}`);
  return { summary: result.summary, calls: renderer.calls, warnings: events.filter((e) => e.type === "remote-cache-warning") };
}

/** Builds a story repo with the cache, commits the lockfile, and builds a fresh clone of it with the same cache. */
async function cloneFromWarmCache(url: string, env: NodeJS.ProcessEnv) {
  const repo = await temps.storyRepo("promo-vertical");
  const first = await buildIn(repo, url, env);
  expect(first.warnings).toEqual([]);
  expect(first.calls).toHaveLength(29);
  await temps.commitAll(repo, "build");
  const clone = await temps.clone(repo);
  const second = await buildIn(clone, url, env);
  const video = async (dir: string) => readFile(join(dir, "out", "promo", "promo.txt"));
  expect(await video(clone)).toEqual(await video(repo));
  return second;
}

describe("remote cache backends", () => {
  it("s3://bucket/prefix against an S3-compatible server: a fresh clone renders nothing", async () => {
    const dir = await temps.make("s3rver");
    const port = await freePort();
    const server = new S3rver({ port, address: "127.0.0.1", silent: true, directory: dir, configureBuckets: [{ name: "team-cache" }] });
    await server.run();
    stops.push(() => server.close());
    const env = { AWS_ACCESS_KEY_ID: "S3RVER", AWS_SECRET_ACCESS_KEY: "S3RVER", AWS_REGION: "us-east-1", AWS_ENDPOINT_URL: `http://127.0.0.1:${port}` };

    const run = await cloneFromWarmCache("s3://team-cache/storyc/v1", env);
    expect(run.calls).toEqual([]);
    expect(run.warnings).toEqual([]);
    expect(run.summary.remote).toMatchObject({ location: "s3://team-cache/storyc/v1", uploadedBytes: 0 });
    expect(run.summary.remote?.nodes).toHaveLength(29);
    expect(run.summary.remote?.downloadedBytes).toBeGreaterThan(0);
  });

  it("storyc build --remote-cache s3://... prints nothing on stderr (no SDK notice)", async () => {
    const dir = await temps.make("s3rver");
    const port = await freePort();
    const server = new S3rver({ port, address: "127.0.0.1", silent: true, directory: dir, configureBuckets: [{ name: "team-cache" }] });
    await server.run();
    stops.push(() => server.close());
    const repo = await temps.storyRepo("suited-man");
    const env = { AWS_ACCESS_KEY_ID: "S3RVER", AWS_SECRET_ACCESS_KEY: "S3RVER", AWS_REGION: "us-east-1", AWS_ENDPOINT_URL: `http://127.0.0.1:${port}` };
    const built = await runBin(["build", "suited-man.yaml", "--renderer", "test", "--remote-cache", "s3://team-cache/ci"], { cwd: repo, env });
    expect(built.stderr).toBe("");
    expect(built.code).toBe(0);
    expect(built.stdout).toMatch(/from the remote cache \(0 B down, [\d.]+ kB up\)/);
  });

  it("a folder (a shared drive): a fresh clone renders nothing; a read-only build writes nothing there", async () => {
    const shared = await temps.make("shared-drive");
    const run = await cloneFromWarmCache(shared, {});
    expect(run.calls).toEqual([]);
    expect(run.summary.remote?.nodes).toHaveLength(29);

    const blobs = async () => (await readdir(join(shared, "cas"))).length;
    const before = await blobs();
    const repo = await temps.storyRepo("promo-vertical");
    await editStory(join(repo, "promo.yaml"), "Then a heartbeat joins in.", "Then a steady heartbeat joins in.");
    const readonly = await buildIn(repo, shared, {}, true);
    // The unchanged nodes come from the shared folder's action entries; the changed ones render and stay local.
    expect([...readonly.calls].sort()).toEqual(["scene/drum-in/clip", "scene/drum-in/narration", "video"]);
    expect(await blobs()).toBe(before);
  });

  it("a story built before the team cache was set up is shared by the next build, which asks the cache about each node only once", async () => {
    const shared = await temps.make("shared-drive");
    const repo = await temps.storyRepo("promo-vertical");
    const alone = await buildIn(repo, undefined, {});
    expect(alone.calls).toHaveLength(29);

    // A store that counts what the build asks of it.
    const asked: string[] = [];
    const counting = (): RemoteCache => {
      const store = new FolderStore(shared);
      const spy: RemoteStore = {
        location: store.location,
        get: (p: RemotePath) => (asked.push(`get ${p}`), store.get(p)),
        has: (p: RemotePath) => (asked.push(`has ${p}`), store.has(p)),
        put: (p: RemotePath, body: Buffer) => (asked.push(`put ${p}`), store.put(p, body)),
        download: (p: RemotePath, file: string, limit: number) => (asked.push(`get ${p}`), store.download(p, file, limit)),
        upload: (p: RemotePath, file: string, size: number) => (asked.push(`put ${p}`), store.upload(p, file, size)),
        close: () => store.close(),
      };
      return new RemoteCache(spy);
    };
    const withCache = counting();
    const seeded = await buildIn(repo, withCache, {});
    await withCache.close();
    expect(seeded.calls).toEqual([]);
    expect(asked.filter((a) => a.startsWith("put ac/"))).toHaveLength(29);

    await temps.commitAll(repo, "build");
    const clone = await temps.clone(repo);
    const cloned = await buildIn(clone, shared, {});
    expect(cloned.calls).toEqual([]);
    expect(cloned.summary.remote?.nodes).toHaveLength(29);

    asked.length = 0;
    const again = counting();
    await buildIn(repo, again, {});
    await again.close();
    expect(asked).toEqual([]);
  });
});
