import { readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { build, plan } from "../../src/engine/build.js";
import { VimmerseRenderer } from "../../src/render/vimmerse/index.js";
import { fakeVimmersePerTest } from "../fake-vimmerse/per-test.js";
import { copyExample, editStory } from "../helpers/story-dir.js";

// suited-man crossfades: its video is joined here from real clips.
const fake = fakeVimmersePerTest({ realMedia: true });
const env = () => fake.env();

async function cloudBuild(story: string, extra: Partial<Parameters<typeof build>[1]> = {}) {
  const renderer = new VimmerseRenderer({ env: env(), pollMs: 5 });
  const rendered: string[] = [];
  const result = await build(story, { renderer, jobs: 4, onEvent: (e) => e.type === "node-done" && !e.restored && rendered.push(e.id), ...extra });
  return { result, rendered: rendered.sort() };
}

describe("the vimmerse renderer against the fake Story API", () => {
  it("builds a story: creates it, makes elements, scenes, clips and the final cut, and downloads every output", async () => {
    const { story, dir } = await copyExample("promo-vertical", "promo.yaml");
    const { result, rendered } = await cloudBuild(story);
    expect(result.ok).toBe(true);
    expect(rendered).toHaveLength(29);
    const paths = fake.api.paidCalls().map((c) => c.path.replace(/\/story\/[^/]+/, "/story/ID"));
    expect(paths).toEqual(["/story", "/story/ID/elements", "/story/ID/scenes", "/story/ID/videos", "/story/ID/concat"]);
    expect(fake.api.generated).toEqual({ elementImages: 8, music: 1, sceneImages: 6, narrations: 6, videos: 6, concats: 1, transitions: 0 });
    const lock = JSON.parse(await readFile(join(dir, "promo.lock"), "utf8"));
    expect(lock.pending).toBeUndefined();
    expect(lock.nodes["scene/bow/clip"].remote).toMatchObject({ storyId: expect.any(String), url: expect.stringMatching(/^http:\/\/127\.0\.0\.1:\d+\/media\/clip-/) });
    const video = await readFile(join(dir, "out/promo/promo.mp4"), "utf8");
    expect(video).toContain("fake video-");
  });

  it("a build with nothing to do makes no call at all", async () => {
    const { story } = await copyExample("promo-vertical", "promo.yaml");
    await cloudBuild(story);
    const before = fake.api.calls.length;
    const { result, rendered } = await cloudBuild(story);
    expect(result.ok).toBe(true);
    expect(rendered).toEqual([]);
    expect(fake.api.calls.length).toBe(before);
  });

  it("one changed narration: regenerates only that narration and that clip, and reuses the other clips by URL", async () => {
    const { story } = await copyExample("promo-vertical", "promo.yaml");
    await cloudBuild(story);
    const calls = fake.api.calls.length;
    const generated = { ...fake.api.generated };
    await editStory(story, "Then a heartbeat joins in.", "Then a steady heartbeat joins in.");
    const { result, rendered } = await cloudBuild(story);
    expect(result.ok).toBe(true);
    expect(rendered).toEqual(["scene/drum-in/clip", "scene/drum-in/narration", "video"]);
    const paid = fake.api.calls.slice(calls).filter((c) => c.paid);
    expect(paid.map((c) => c.path.split("/").pop())).toEqual(["scenes", "videos", "concat"]);
    // The scenes request carries every other URL, so the API makes one narration and no image.
    expect(fake.api.generated.sceneImages - generated.sceneImages).toBe(0);
    expect(fake.api.generated.narrations - generated.narrations).toBe(1);
    expect(fake.api.generated.videos - generated.videos).toBe(1);
    const sent = JSON.parse(String(paid[1]!.fields.storyboard));
    expect(sent.scenes).toHaveLength(1);
    expect(paid[2]!.fields.concat_video_urls).toHaveLength(6);
    expect(paid.every((c) => c.path.includes(paid[0]!.path.split("/")[2]!))).toBe(true);
  });

  it("plan --renderer vimmerse shows the estimated credits", async () => {
    const { story } = await copyExample("promo-vertical", "promo.yaml");
    const planned = await plan(story, { renderer: new VimmerseRenderer({ env: env() }) });
    // 8 elements x 2, music 5, 6 scene images x 2, 6 narrations x 1, 6 clips x 4 s x 10, concat 1
    expect(planned.ok && planned.plan.credits).toBe(16 + 5 + 12 + 6 + 240 + 1);
  });

  it("says the key is missing without calling the API", async () => {
    const { story } = await copyExample("suited-man", "suited-man.yaml");
    const result = await build(story, { renderer: new VimmerseRenderer({ env: { VIMMERSE_API_URL: fake.api.url } }) });
    expect(!result.ok && result.failure).toMatchObject({ reason: "renderer-unavailable", message: "VIMMERSE_API_KEY is not set" });
    expect(fake.api.calls).toEqual([]);
  });
});

describe("webhooks", () => {
  it("a webhook wakes the wait for the scene videos, which is confirmed with a GET", async () => {
    const { story } = await copyExample("suited-man", "suited-man.yaml");
    fake.api.timedJobsMs = 30;
    fake.api.ticksPerJob = 1000;
    // Polls every 60 s: without the webhook this build would wait that long for the videos.
    const renderer = new VimmerseRenderer({ env: env(), webhookPort: 0, pollMs: 60_000 });
    const result = await build(story, { renderer, jobs: 4 });
    expect(result.ok).toBe(true);
    expect(fake.api.webhooks).toHaveLength(1);
    expect(fake.api.webhooks[0]![0]).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/storyc-webhook$/);
    const videos = fake.api.calls.find((c) => c.path.endsWith("/videos"))!;
    expect(videos.fields.webhook_url).toBe(fake.api.webhooks[0]![0]);
  }, 30_000);
});

describe("faults", () => {
  it("retries 429 (honouring Retry-After), 500 and resets on reads, and finishes", async () => {
    const { story } = await copyExample("suited-man", "suited-man.yaml");
    fake.api.fault({ kind: "429", method: "GET", retryAfterSeconds: 0, times: 2 });
    fake.api.fault({ kind: "500", method: "GET" });
    fake.api.fault({ kind: "reset", method: "GET" });
    const { result } = await cloudBuild(story);
    expect(result.ok).toBe(true);
    expect(fake.api.calls.filter((c) => c.status === 429)).toHaveLength(2);
  });

  it("a paid request rejected with 429 or 503 is sent again; the work is paid once", async () => {
    const { story } = await copyExample("suited-man", "suited-man.yaml");
    fake.api.fault({ kind: "429", method: "POST", path: /\/scenes$/, retryAfterSeconds: 0 });
    fake.api.fault({ kind: "503", method: "POST", path: /\/videos$/ });
    const { result } = await cloudBuild(story);
    expect(result.ok).toBe(true);
    expect(fake.api.paidCalls().filter((c) => c.path.endsWith("/scenes"))).toHaveLength(1);
    expect(fake.api.paidCalls().filter((c) => c.path.endsWith("/videos"))).toHaveLength(1);
  });

  it("an answer lost after the API accepted a paid request is not paid again", async () => {
    const { story } = await copyExample("suited-man", "suited-man.yaml");
    fake.api.fault({ kind: "reset-after-processing", method: "POST", path: /\/videos$/ });
    const { result } = await cloudBuild(story);
    expect(result.ok).toBe(true);
    expect(fake.api.calls.filter((c) => c.method === "POST" && c.path.endsWith("/videos"))).toHaveLength(1);
    expect(fake.api.generated.videos).toBe(2);
  });

  it("402 says credit is insufficient and how much the remaining work needs", async () => {
    const { story } = await copyExample("suited-man", "suited-man.yaml");
    fake.api.fault({ kind: "402", method: "POST", path: /\/elements$/ });
    const { result } = await cloudBuild(story);
    expect(result.ok).toBe(false);
    const failed = !result.ok && result.failure.reason === "nodes-failed" ? result.failure.summary.failed : [];
    // suited-man's elements request: 3 elements x 2 and the music 5
    expect(failed[0]!.error).toMatch(/not enough credit .*Insufficient credit.*this request needs about 11 credits/);
    // Nothing was made: all of the plan's 117 credits remain to be paid for.
    expect(!result.ok && result.failure.reason === "nodes-failed" && result.failure.summary.credits).toEqual({ estimated: 117, used: null, remaining: 117 });
  });

  it("a wrong key is reported without printing it", async () => {
    const { story } = await copyExample("suited-man", "suited-man.yaml");
    const renderer = new VimmerseRenderer({ env: { ...env(), VIMMERSE_API_KEY: "wrong-secret-123" }, pollMs: 5 });
    const result = await build(story, { renderer });
    const text = JSON.stringify(result);
    expect(text).toContain("the Story API refused the key (HTTP 401)");
    expect(text).not.toContain("wrong-secret-123");
  });

  it("a malformed answer is a clear error, not a crash", async () => {
    const { story } = await copyExample("suited-man", "suited-man.yaml");
    fake.api.fault({ kind: "malformed", method: "POST", path: /^\/story$/ });
    const { result } = await cloudBuild(story);
    const failed = !result.ok && result.failure.reason === "nodes-failed" ? result.failure.summary.failed : [];
    expect(failed[0]!.error).toContain("POST /story: the answer is not JSON");
  });

  it("a slow answer times out and is retried", async () => {
    const { VimmerseClient } = await import("../../src/render/vimmerse/client.js");
    const client = new VimmerseClient({ apiKey: fake.api.key, baseUrl: fake.api.url, timeoutMs: 200, backoffMs: 10 });
    const created = await client.createStory({ idea: "a fox" });
    fake.api.fault({ kind: "slow", method: "GET", delayMs: 1000 });
    const got = await client.getStory(created.id);
    expect(got.id).toBe(created.id);
    expect(fake.api.arrivals.filter((a) => a.startsWith("GET /story/"))).toHaveLength(2);
  });
});

describe("the fake API holds to the contract", () => {
  it("answers 422 with FastAPI details for a wrong field, and 404 for an unknown story", async () => {
    const { VimmerseClient } = await import("../../src/render/vimmerse/client.js");
    const client = new VimmerseClient({ apiKey: fake.api.key, baseUrl: fake.api.url });
    const created = await client.createStory({ idea: "a fox", aspect_ratio: "16:9" });
    await expect(client.generateVideos(created.id, { duration: 42 })).rejects.toMatchObject({ kind: "invalid", message: expect.stringContaining("duration: Input should be less than or equal to 10") });
    await expect(client.getStory("no-such-story")).rejects.toMatchObject({ kind: "not-found" });
    await expect(client.createStory({ idea: "x", aspect_ratio: "2:1" })).rejects.toMatchObject({ kind: "invalid", message: expect.stringContaining("aspect_ratio") });
  });

  it("every endpoint: PUT, DELETE and idea-2-video", async () => {
    const { VimmerseClient } = await import("../../src/render/vimmerse/client.js");
    const client = new VimmerseClient({ apiKey: fake.api.key, baseUrl: fake.api.url });
    const created = await client.createStory({ idea: "a fox", scene_count: 2 });
    expect(created.storyboard?.scenes).toHaveLength(2);
    expect((await client.updateStory(created.id, { title: "Fox" })).title).toBe("Fox");
    const idea = await client.ideaToVideo({ idea: "cats playing drums", scene_count: 2, aspect_ratio: "9:16" });
    let story = idea;
    // The fake finishes a job in a few polls; a bound turns a stuck job into a failure, not a hang.
    for (let poll = 0; poll < 50 && story.status !== "success"; poll++) story = await client.getStory(idea.id);
    expect(story.status).toBe("success");
    expect(story.video_url).toMatch(/\/media\/video-/);
    await client.deleteStory(created.id);
    await expect(client.getStory(created.id)).rejects.toMatchObject({ kind: "not-found" });
  });
});
