import { createHash } from "node:crypto";
import { readdir, readFile, writeFile, chmod } from "node:fs/promises";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { build, type BuildEvent } from "../../src/engine/build.js";
import type { BuildSummary } from "../../src/engine/events.js";
import { TestRenderer } from "../../src/render/test-renderer.js";
import type { RenderInput, RenderResult } from "../../src/render/types.js";
import { editStory } from "../helpers/story-dir.js";
import { startNginxCache, type NginxCache } from "../helpers/nginx.js";
import { TempDirs } from "../helpers/story-repo.js";

const temps = new TempDirs();
const servers: NginxCache[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.dispose()));
  await temps.removeAll();
});

async function nginx(options: { token?: string; refuseWrites?: boolean } = {}): Promise<NginxCache> {
  const server = await startNginxCache(options);
  servers.push(server);
  return server;
}

interface Run {
  summary: BuildSummary;
  calls: string[];
  events: BuildEvent[];
}

/** Builds promo.yaml in a repo with the test renderer and a remote cache; the build must succeed. */
async function buildIn(dir: string, remoteCache: { url: string; readonly?: boolean }, options: { env?: NodeJS.ProcessEnv; renderer?: TestRenderer } = {}): Promise<Run> {
  const renderer = options.renderer ?? new TestRenderer();
  const events: BuildEvent[] = [];
  const result = await build(join(dir, "promo.yaml"), { renderer, jobs: 4, remoteCache, env: options.env ?? {}, onEvent: (e) => events.push(e) });
  if (!result.ok) throw new Error(`build failed: ${JSON.stringify(result.failure).slice(0, 400)}`);
  return { summary: result.summary, calls: [...renderer.calls].sort(), events };
}

const warnings = (run: Run) => run.events.filter((e): e is Extract<BuildEvent, { type: "remote-cache-warning" }> => e.type === "remote-cache-warning");
const sha = (bytes: Buffer) => createHash("sha256").update(bytes).digest("hex");
const ALL_NODES = 29;

/** A story repo built once with the remote cache, its lockfile committed. */
async function builtRepo(server: NginxCache, env: NodeJS.ProcessEnv = {}) {
  const repo = await temps.storyRepo("promo-vertical");
  const first = await buildIn(repo, { url: server.url }, { env });
  expect(first.summary.rendered).toHaveLength(ALL_NODES);
  await temps.commitAll(repo, "build");
  return { repo, video: await readFile(join(repo, "out", "promo", "promo.txt")) };
}

describe("remote cache over the Bazel HTTP protocol (nginx WebDAV)", () => {
  it("a fresh clone renders nothing and downloads only the video's blob", async () => {
    const server = await nginx();
    const { repo, video } = await builtRepo(server);
    const blobsOnServer = (await readdir(join(server.root, "cas"))).length;
    expect(blobsOnServer).toBe(ALL_NODES);

    const clone = await temps.clone(repo);
    const before = (await server.requests()).length;
    const run = await buildIn(clone, { url: server.url });
    expect(run.calls).toEqual([]);
    expect(run.summary.rendered).toEqual([]);
    expect(run.summary.remote?.nodes).toHaveLength(ALL_NODES);
    expect(await readFile(join(clone, "out", "promo", "promo.txt"))).toEqual(video);
    const gets = (await server.requests()).slice(before).filter((r) => r.method === "GET");
    expect(gets.map((r) => r.uri)).toEqual([`/cas/${sha(video)}`]);
    expect(run.summary.remote?.downloadedBytes).toBe(video.length);
    // The clone's own cache holds the video and nothing else: the rest stays on the server until needed.
    expect(await readdir(join(clone, ".storyc", "cache", "cas"))).toHaveLength(1);
  });

  it("the next incremental build in the clone downloads what the changed nodes read, and renders only them", async () => {
    const server = await nginx();
    const { repo } = await builtRepo(server);
    const clone = await temps.clone(repo);
    await buildIn(clone, { url: server.url });
    await editStory(join(clone, "promo.yaml"), "Then a heartbeat joins in.", "Then a steady heartbeat joins in.");
    const run = await buildIn(clone, { url: server.url });
    expect(run.calls).toEqual(["scene/drum-in/clip", "scene/drum-in/narration", "video"]);
    const downloaded = run.events.filter((e) => e.type === "node-downloaded").map((e) => (e as { id: string }).id);
    // The video reads every clip and narration, the music and the title; the new clip reads its scene's image.
    expect(downloaded).toContain("scene/drum-in/image");
    expect(downloaded).not.toContain("video");
    expect(downloaded.filter((id) => id.startsWith("element/"))).toEqual([]);
  });

  it("a corrupted blob on the server is caught, reported once, and the node is made again", async () => {
    const server = await nginx();
    const { repo, video } = await builtRepo(server);
    const blob = join(server.root, "cas", sha(video));
    await chmod(blob, 0o644);
    await writeFile(blob, Buffer.concat([video.subarray(0, 10), Buffer.from("tampered"), video.subarray(18)]));

    const clone = await temps.clone(repo);
    const run = await buildIn(clone, { url: server.url });
    expect(run.calls).toEqual(["video"]);
    expect(warnings(run).map((w) => w.reason)).toEqual(["corrupt"]);
    expect(await readFile(join(clone, "out", "promo", "promo.txt"))).toEqual(video);
    // The remade node went back up, so the next clone gets good bytes.
    expect(sha(await readFile(blob))).toBe(sha(video));
  });

  it("a read-only build reads the cache and sends no PUT", async () => {
    const server = await nginx();
    const { repo } = await builtRepo(server);
    const clone = await temps.clone(repo);
    await editStory(join(clone, "promo.yaml"), "Then a heartbeat joins in.", "Then a steady heartbeat joins in.");
    const before = (await server.requests()).length;
    const run = await buildIn(clone, { url: server.url, readonly: true });
    expect(run.calls).toEqual(["scene/drum-in/clip", "scene/drum-in/narration", "video"]);
    const requests = (await server.requests()).slice(before);
    expect(requests.filter((r) => r.method === "GET").length).toBeGreaterThan(0);
    expect(requests.filter((r) => r.method === "PUT")).toEqual([]);
    expect(run.summary.remote).toMatchObject({ readonly: true, uploadedBytes: 0 });
  });

  it("the server stopped in the middle of a build: the build finishes locally with one warning", async () => {
    const server = await nginx();
    const repo = await temps.storyRepo("promo-vertical");
    // The cache goes away while a node renders, after the first nodes were uploaded.
    class StopsTheServer extends TestRenderer {
      override async render(input: RenderInput): Promise<RenderResult> {
        if (input.node.id === "music") await server.stop();
        return super.render(input);
      }
    }
    const run = await buildIn(repo, { url: server.url }, { renderer: new StopsTheServer() });
    expect(run.summary.ok).toBe(true);
    expect(run.calls).toHaveLength(ALL_NODES);
    expect(warnings(run).map((w) => w.reason)).toEqual(["unavailable"]);
    const lock = JSON.parse(await readFile(join(repo, "promo.lock"), "utf8")) as { nodes: Record<string, unknown> };
    expect(Object.keys(lock.nodes)).toHaveLength(ALL_NODES);
    // Local work is kept: a second build without the server renders nothing.
    const again = await buildIn(repo, { url: server.url });
    expect(again.calls).toEqual([]);
  });

  it("with a signing key, entries written without it (or with another key) are ignored", async () => {
    const server = await nginx();
    const repo = await temps.storyRepo("promo-vertical");
    await buildIn(repo, { url: server.url }); // unsigned entries
    const withoutLock = async () => {
      const clone = await temps.clone(repo);
      return clone; // the lockfile was never committed: only action entries can make nodes fresh
    };

    const signed = await buildIn(await withoutLock(), { url: server.url }, { env: { STORYC_REMOTE_CACHE_SIGNING_KEY: "team-key-1" } });
    expect(signed.calls).toHaveLength(ALL_NODES);
    expect(warnings(signed).map((w) => w.reason)).toEqual(["untrusted"]);

    // That build signed what it made: a teammate with the key now renders nothing.
    const teammate = await buildIn(await withoutLock(), { url: server.url }, { env: { STORYC_REMOTE_CACHE_SIGNING_KEY: "team-key-1" } });
    expect(teammate.calls).toEqual([]);
    expect(teammate.summary.restored).toHaveLength(ALL_NODES);

    const otherKey = await buildIn(await withoutLock(), { url: server.url, readonly: true }, { env: { STORYC_REMOTE_CACHE_SIGNING_KEY: "not-the-team-key" } });
    expect(otherKey.calls).toHaveLength(ALL_NODES);
  });

  it("paid work is shared: a teammate restores the remote record and pays for nothing", async () => {
    const server = await nginx();
    const repo = await temps.storyRepo("promo-vertical");
    class PaidRenderer extends TestRenderer {
      constructor() {
        super();
        // The test renderer types `paid` as false; this one stands for the cloud renderer.
        (this as { paid: boolean }).paid = true;
      }
      override async render(input: RenderInput): Promise<RenderResult> {
        return { ...(await super.render(input)), remote: { jobId: `job-${input.node.id}` } };
      }
    }
    await buildIn(repo, { url: server.url }, { renderer: new PaidRenderer() });
    const clone = await temps.clone(repo); // no lockfile committed: only the remote cache knows
    const teammate = new PaidRenderer();
    const run = await buildIn(clone, { url: server.url }, { renderer: teammate });
    expect(teammate.calls).toEqual([]);
    const lock = JSON.parse(await readFile(join(clone, "promo.lock"), "utf8")) as { nodes: Record<string, { remote?: { jobId: string } }> };
    expect(lock.nodes["video"]?.remote).toEqual({ jobId: "job-video" });
    expect(run.summary.restored).toHaveLength(ALL_NODES);
  });

  it("a cache that refuses writes costs one warning; the build finishes and keeps its work", async () => {
    const server = await nginx({ refuseWrites: true });
    const repo = await temps.storyRepo("promo-vertical");
    const run = await buildIn(repo, { url: server.url });
    expect(run.summary.ok).toBe(true);
    expect(run.calls).toHaveLength(ALL_NODES);
    expect(warnings(run).map((w) => w.reason)).toEqual(["refused"]);
    expect(warnings(run)[0]!.message).toContain("answered 405");
    // After the first refusal the build stops trying: at most the uploads already in flight (4 at once), not one per blob.
    const puts = (await server.requests()).filter((r) => r.method === "PUT");
    expect(puts.length).toBeGreaterThan(0);
    expect(puts.length).toBeLessThanOrEqual(4);
  });
});
