import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { build, plan } from "../../src/engine/build.js";
import type { ApiStory } from "../../src/render/vimmerse/client.js";
import { mapClips } from "../../src/render/vimmerse/answers.js";
import { VimmerseRenderer } from "../../src/render/vimmerse/index.js";
import { fakeVimmersePerTest } from "../fake-vimmerse/per-test.js";
import { runBin } from "../helpers/cli.js";
import { copyExample, editStory } from "../helpers/story-dir.js";

// Crossfade stories are joined here from real clips.
const fake = fakeVimmersePerTest({ realMedia: true });
const dirs: string[] = [];
afterEach(async () => {
  await Promise.all(dirs.splice(0).map((d) => rm(d, { recursive: true, force: true })));
});

async function example(name: string, file: string) {
  const copy = await copyExample(name, file);
  dirs.push(copy.dir);
  return copy;
}

/** A story of its own in a temporary folder. */
async function storyFile(yaml: string): Promise<{ dir: string; story: string }> {
  const dir = await mkdtemp(join(tmpdir(), "storyc-contract-"));
  dirs.push(dir);
  const story = join(dir, "story.yaml");
  await writeFile(story, yaml);
  return { dir, story };
}

function threeDurations(transitions: "cut" | "crossfade"): string {
  return `storyc: 1
title: Three Clocks
settings:
  aspect_ratio: "16:9"
  motion: { model: KlingAI, duration: 5 }
  image: { model: Seedream, seed: 7 }
  narrator: Rachel
  background_music: false
  show_title: false
  transitions: ${transitions}
characters:
  - name: Ada
    description: A clockmaker with silver spectacles.
scenes:
  - id: short
    description: "**Ada** winds a pocket watch."
    narrator: It starts with one turn.
    duration: 3
  - id: medium
    description: "**Ada** opens the back of a mantel clock."
    narrator: Then a hundred small wheels.
    duration: 5
  - id: long
    description: "**Ada** stands before the tower clock at dawn."
    narrator: And at last, the town's own heartbeat.
    duration: 8
`;
}

function renderer(extra: Record<string, string> = {}) {
  return new VimmerseRenderer({ env: { ...fake.env(), ...extra }, pollMs: 5 });
}

async function lockOf(dir: string, name = "story.lock") {
  return JSON.parse(await readFile(join(dir, name), "utf8")) as { nodes: Record<string, { outputs: Array<{ cache: string }>; remote?: Record<string, unknown> }> };
}

/** The bytes of a node's first output, from the cache the lockfile points at. */
async function outputText(dir: string, lock: Awaited<ReturnType<typeof lockOf>>, id: string): Promise<string> {
  return readFile(join(dir, lock.nodes[id]!.outputs[0]!.cache), "utf8");
}

describe("clips land in their scenes", () => {
  it("three scene durations: one videos request at a time, each clip made from its own scene's image and duration", async () => {
    const { dir, story } = await storyFile(threeDurations("cut"));
    // The fake lists clips in the opposite order of the storyboard: only identity can map them.
    fake.api.answerOrder = "reversed";
    const result = await build(story, { renderer: renderer(), jobs: 4 });
    expect(result.ok).toBe(true);
    expect(fake.api.overlaps).toBe(0);
    const videos = fake.api.paidCalls().filter((c) => c.path.endsWith("/videos"));
    expect(videos.map((c) => c.fields.duration).sort()).toEqual([3, 5, 8]);
    const lock = await lockOf(dir);
    for (const [scene, seconds] of [["short", 3], ["medium", 5], ["long", 8]] as const) {
      const image = lock.nodes[`scene/${scene}/image`]!.remote!.url as string;
      expect(await outputText(dir, lock, `scene/${scene}/clip`)).toContain(`from ${image} for ${seconds}s`);
    }
    // The final cut joins the clips in play order.
    const concat = fake.api.paidCalls().find((c) => c.path.endsWith("/concat"))!;
    expect(concat.fields.concat_video_urls).toEqual(["short", "medium", "long"].map((s) => lock.nodes[`scene/${s}/clip`]!.remote!.url));
  });

  it("a crossfade story asks for no AI transition videos and no /concat: its scene clips are joined here", async () => {
    const { story } = await storyFile(threeDurations("crossfade"));
    const result = await build(story, { renderer: renderer(), jobs: 4 });
    expect(result.ok).toBe(true);
    const videos = fake.api.paidCalls().filter((c) => c.path.endsWith("/videos"));
    expect(videos).toHaveLength(3);
    for (const call of videos) expect(call.fields.is_transition).toBe(false);
    expect(fake.api.generated.transitions).toBe(0);
    expect(fake.api.calls.filter((c) => c.path.endsWith("/concat"))).toEqual([]);
    // The plan says how the video is joined.
    await editStory(story, "title: Three Clocks", "title: Three Clocks Again");
    const planned = await plan(story, { renderer: renderer() });
    expect(planned.ok && planned.plan.items.find((i) => i.id === "video")!.notes).toEqual([expect.stringMatching(/^transitions: crossfade — the clips are joined here with ffmpeg \S+, crossfading; no \/concat call, no concat credit$/)]);
  });

  it("a failed media fails its own clip with the API's reason; the next build makes only that clip", async () => {
    const { story } = await storyFile(threeDurations("cut"));
    let failures = 0;
    fake.api.failClip = { when: () => failures++ === 0, reason: "content policy: the image was rejected" };
    const first = await build(story, { renderer: renderer(), jobs: 4 });
    const failed = !first.ok && first.failure.reason === "nodes-failed" ? first.failure.summary.failed : [];
    expect(failed).toHaveLength(1);
    expect(failed[0]!.id).toMatch(/^scene\/\w+\/clip$/);
    expect(failed[0]!.error).toContain("content policy: the image was rejected");
    const rendered: string[] = [];
    const second = await build(story, { renderer: renderer(), jobs: 4, onEvent: (e) => e.type === "node-done" && !e.restored && rendered.push(e.id) });
    expect(second.ok).toBe(true);
    expect(rendered.sort()).toEqual([failed[0]!.id, "video"].sort());
  });
});

describe("mapping an answer to scenes", () => {
  const a = "https://media.example/a.png";
  const b = "https://media.example/b.png";
  const answer = (extra: Partial<ApiStory>): ApiStory => ({ id: "s", status: "success", ...extra });

  it("reads clips by source image from medias, skipping AI transitions that start at the same image", () => {
    const story = answer({
      medias: [
        { source: { image_url: b }, video_url: "https://v/b.mp4" },
        { source: { image_url: a, end_image_url: b }, is_transition: true, video_url: "https://v/a-to-b.mp4" },
        { source: { image_url: a }, video_url: "https://v/a.mp4" },
      ],
    });
    expect(mapClips(story, [a, b])).toEqual([{ url: "https://v/a.mp4" }, { url: "https://v/b.mp4" }]);
  });

  it("refuses two different clips for one scene, a missing clip, and a storyboard that is not the one sent", () => {
    const twice = mapClips(answer({ scenes: [{ image_url: a, video_url: "https://v/1.mp4" }], medias: [{ source: { image_url: a }, video_url: "https://v/2.mp4" }] }), [a]);
    expect("error" in twice[0]! && twice[0].error.message).toMatch(/ambiguous .* 2 different clips/);
    const none = mapClips(answer({ scenes: [{ image_url: a, video_url: "https://v/1.mp4" }] }), [a, b]);
    expect(none[0]).toEqual({ url: "https://v/1.mp4" });
    expect("error" in none[1]! && none[1].error.message).toContain("names no clip made from this scene's image");
    const replaced = mapClips(answer({ storyboard: { scenes: [{ image_url: b, video_url: "https://v/b.mp4" }] } }), [a]);
    expect("error" in replaced[0]! && replaced[0].error.message).toContain("not the one this videos request sent");
  });
});

describe("the contract's shapes and faults", () => {
  it("element images returned under URL are read", async () => {
    const { story } = await example("suited-man", "suited-man.yaml");
    fake.api.elementUrlField = "URL";
    const result = await build(story, { renderer: renderer(), jobs: 4 });
    expect(result.ok).toBe(true);
  });

  it("garbled answers to status polls are retried like any transient fault", async () => {
    const { story } = await example("suited-man", "suited-man.yaml");
    fake.api.fault({ kind: "malformed", method: "GET", times: 3 });
    const result = await build(story, { renderer: renderer(), jobs: 4 });
    expect(result.ok).toBe(true);
    expect(fake.api.paidCalls().filter((c) => c.path.endsWith("/videos"))).toHaveLength(1);
  });
});

describe("inputs and keys agree", () => {
  it("the seed is sent to the API, and a seed change plans images, clips and the video, not narration or music", async () => {
    const { dir, story } = await example("suited-man", "suited-man.yaml");
    await editStory(story, "motion: { model: KlingAI, duration: 5 }", "motion: { model: KlingAI, duration: 5 }\n  image: { model: Seedream, seed: 11 }");
    expect((await build(story, { renderer: renderer(), jobs: 4 })).ok).toBe(true);
    for (const stage of ["elements", "scenes"]) expect(fake.api.paidCalls().find((c) => c.path.endsWith(`/${stage}`))!.fields.seed).toBe("11");
    await editStory(story, "seed: 11", "seed: 12");
    const planned = await plan(story, { renderer: renderer() });
    if (!planned.ok) throw new Error("plan failed");
    const stale = planned.plan.items.filter((i) => i.action === "update").map((i) => i.id).sort();
    expect(stale).toEqual(
      ["element/characters/suited man", "element/environments/city street", "element/objects/briefcase", "scene/introduction/image", "scene/focused-walk/image", "scene/introduction/clip", "scene/focused-walk/clip", "video"].sort(),
    );
    expect(planned.plan.items.find((i) => i.id === "element/objects/briefcase")!.reasons).toContain("settings changed");
    const calls = fake.api.calls.length;
    expect((await build(story, { renderer: renderer(), jobs: 4 })).ok).toBe(true);
    const sent = fake.api.calls.slice(calls).filter((c) => c.paid);
    expect(sent.find((c) => c.path.endsWith("/elements"))!.fields.seed).toBe("12");
    void dir;
  });
});

describe("the story's language reaches the API", () => {
  const spoken = (language: string) => threeDurations("cut").replace("  narrator: Rachel\n", `  narrator: Rachel\n  language: ${language}\n`);
  /** POST /story calls since a point: creations, and language changes of an existing story (with its story_id). */
  const storyPosts = (from = 0) => fake.api.calls.slice(from).filter((c) => c.paid && c.method === "POST" && c.path === "/story");
  const indexOf = (suffix: string, from = 0) => fake.api.calls.findIndex((c, i) => i >= from && c.paid && c.path.endsWith(suffix));

  it("narrations are made in the story's language, set on the remote story before they are asked for", async () => {
    const { dir, story } = await storyFile(spoken("es"));
    expect((await build(story, { renderer: renderer(), jobs: 4 })).ok).toBe(true);
    expect(fake.api.stories.size).toBe(1);
    const said = storyPosts().find((c) => c.fields.language !== undefined)!;
    expect(said.fields.language).toBe("Spanish");
    expect(fake.api.calls.indexOf(said)).toBeLessThan(indexOf("/scenes"));
    const lock = await lockOf(dir);
    for (const scene of ["short", "medium", "long"]) expect(await outputText(dir, lock, `scene/${scene}/narration`)).toContain("in Spanish");
  });

  it("a language change plans the narrations, tells the same remote story, and pays for nothing else but what depends on them", async () => {
    const { dir, story } = await storyFile(spoken("es"));
    expect((await build(story, { renderer: renderer(), jobs: 4 })).ok).toBe(true);
    const storyId = [...fake.api.stories.keys()][0];
    await editStory(story, "language: es", "language: fr");
    const planned = await plan(story, { renderer: renderer() });
    if (!planned.ok) throw new Error("plan failed");
    const stale = planned.plan.items.filter((i) => i.action === "update").map((i) => i.id).sort();
    expect(stale).toEqual(["long", "medium", "short"].flatMap((s) => [`scene/${s}/clip`, `scene/${s}/narration`]).concat("video").sort());
    const from = fake.api.calls.length;
    const generated = { ...fake.api.generated };
    expect((await build(story, { renderer: renderer(), jobs: 4 })).ok).toBe(true);
    // The same story is told its new language (no second story is created), before the narrations are asked for.
    expect(fake.api.stories.size).toBe(1);
    expect(storyPosts(from).map((c) => [c.fields.story_id, c.fields.language])).toEqual([[storyId, "French"]]);
    expect(fake.api.calls.indexOf(storyPosts(from)[0]!)).toBeLessThan(indexOf("/scenes", from));
    expect(fake.api.overlaps).toBe(0);
    expect(fake.api.generated.elementImages - generated.elementImages).toBe(0);
    expect(fake.api.generated.sceneImages - generated.sceneImages).toBe(0);
    expect(fake.api.generated.narrations - generated.narrations).toBe(3);
    const lock = await lockOf(dir);
    for (const scene of ["short", "medium", "long"]) expect(await outputText(dir, lock, `scene/${scene}/narration`)).toContain("in French");
    // The next narration edit knows the story speaks French already: no language is sent again.
    await editStory(story, "It starts with one turn.", "It starts with a single turn.");
    const again = fake.api.calls.length;
    expect((await build(story, { renderer: renderer(), jobs: 4 })).ok).toBe(true);
    expect(storyPosts(again)).toEqual([]);
    expect(await outputText(dir, await lockOf(dir), "scene/short/narration")).toContain("in French");
  });

  it("an English story is created in the API's default language and never told it again", async () => {
    const { story } = await storyFile(threeDurations("cut"));
    expect((await build(story, { renderer: renderer(), jobs: 4 })).ok).toBe(true);
    expect(storyPosts()).toHaveLength(1);
    expect(storyPosts()[0]!.fields.story_id).toBeUndefined();
  });
});

describe("transitions are how clips are joined", () => {
  it("changing cut to crossfade pays for no clip again: only the join changes, and /concat is not paid again", async () => {
    const { story } = await storyFile(threeDurations("cut"));
    expect((await build(story, { renderer: renderer(), jobs: 4 })).ok).toBe(true);
    await editStory(story, "transitions: cut", "transitions: crossfade");
    const planned = await plan(story, { renderer: renderer() });
    expect(planned.ok && planned.plan.items.filter((i) => i.action !== "fresh").map((i) => i.id)).toEqual(["video"]);
    const paid = fake.api.paidCalls().length;
    expect((await build(story, { renderer: renderer(), jobs: 4 })).ok).toBe(true);
    expect(fake.api.paidCalls().length).toBe(paid);
  });
});

describe("local reference files", () => {
  it("with no way to send them, the build stops before any call and says what to do", async () => {
    const { story } = await example("lighthouse", "lighthouse.yaml");
    const result = await build(story, { renderer: renderer(), jobs: 4 });
    expect(result.ok).toBe(false);
    const problems = !result.ok && result.failure.reason === "blocked" ? result.failure.problems : [];
    expect(problems.map((p) => p.message.split(" ")[0])).toEqual(["refs/keeper.png", "refs/lighthouse.png", "refs/lantern.png", "refs/theme.wav"]);
    expect(problems[0]!.hint).toMatch(/public URL.*STORYC_MEDIA_BASE_URL.*STORYC_VIMMERSE_LOCAL_MEDIA=generate.*\(~2 credits\)/);
    expect(fake.api.calls).toEqual([]);
    const cli = await runBin(["plan", "lighthouse.yaml", "--renderer", "vimmerse"], { cwd: join(story, ".."), env: fake.env() });
    expect(cli.stdout).toContain("blocked: refs/keeper.png (element/characters/Keeper) is a local file");
    const built = await runBin(["build", "lighthouse.yaml", "--renderer", "vimmerse"], { cwd: join(story, ".."), env: fake.env() });
    expect(built.code).toBe(1);
    expect(built.stderr).toContain("error: refs/theme.wav (music) is a local file");
    expect(built.stderr).toContain("nothing was built and nothing was paid for");
    expect(fake.api.calls).toEqual([]);
  });

  it("with a base URL for the story's files, each file is sent as its URL and nothing is generated for it", async () => {
    const { story } = await example("lighthouse", "lighthouse.yaml");
    const base = `${fake.api.url}/files/lighthouse/`;
    // The crossfade join decodes the music: the published folder serves the story's own files.
    fake.api.published = { prefix: "lighthouse/", dir: join(story, "..") };
    const planned = await plan(story, { renderer: renderer({ STORYC_MEDIA_BASE_URL: base }) });
    expect(planned.ok && planned.plan.items.find((i) => i.id === "music")!.notes).toEqual([`refs/theme.wav reaches the API as ${base}refs/theme.wav (STORYC_MEDIA_BASE_URL)`]);
    const result = await build(story, { renderer: renderer({ STORYC_MEDIA_BASE_URL: base }), jobs: 4 });
    expect(result.ok).toBe(true);
    const elements = JSON.parse(String(fake.api.paidCalls().find((c) => c.path.endsWith("/elements"))!.fields.storyboard));
    expect(elements.characters[0].image_url).toBe(`${base}refs/keeper.png`);
    expect(elements.music.music_url).toBe(`${base}refs/theme.wav`);
    expect(fake.api.generated.elementImages).toBe(0);
    expect(fake.api.generated.music).toBe(0);
    const scenes = JSON.parse(String(fake.api.paidCalls().find((c) => c.path.endsWith("/scenes"))!.fields.storyboard));
    expect(scenes.scenes[2].image_url).toBe(`${base}refs/lantern.png`);
  });
});

describe("spend as the API reports it", () => {
  it("the credits printed are the API's used_credits, recorded per node in the lockfile", async () => {
    const { dir } = await example("suited-man", "suited-man.yaml");
    const r = await runBin(["build", "suited-man.yaml", "--renderer", "vimmerse"], { cwd: dir, env: fake.env() });
    expect(r.code).toBe(0);
    const used = [...fake.api.stories.values()].reduce((sum, s) => sum + s.used_credits, 0);
    expect(used).toBeGreaterThan(0);
    expect(r.stdout).toContain(`Credits: ${used} used (estimated 117)`);
    const lock = await lockOf(dir, "suited-man.lock");
    const perNode = Object.values(lock.nodes).reduce((sum, n) => sum + (typeof n.remote?.credits === "number" ? n.remote.credits : 0), 0);
    expect(perNode).toBe(used);
  }, 30_000);

  it("/concat is not paid again when the clips and music it joins did not change", async () => {
    const { story } = await storyFile(threeDurations("cut"));
    expect((await build(story, { renderer: renderer(), jobs: 4 })).ok).toBe(true);
    await editStory(story, "title: Three Clocks\n", "title: Three Clocks Again\n");
    const calls = fake.api.calls.length;
    const rendered: string[] = [];
    const again = await build(story, { renderer: renderer(), jobs: 4, onEvent: (e) => e.type === "node-done" && !e.restored && rendered.push(e.id) });
    expect(again.ok).toBe(true);
    expect(rendered).toContain("video");
    expect(fake.api.calls.slice(calls)).toEqual([]);
  });
});

describe("stories made elsewhere", () => {
  it("pull of a finished remote story, then build, makes no paid call and renders nothing", async () => {
    const { dir } = await storyFile("# unused\n");
    const { VimmerseClient } = await import("../../src/render/vimmerse/client.js");
    const client = new VimmerseClient({ apiKey: fake.api.key, baseUrl: fake.api.url });
    let remote = await client.ideaToVideo({ idea: "Pip the otter learns to juggle pebbles", scene_count: 3, aspect_ratio: "9:16" });
    // Bounded: the fake finishes a job after ticksPerJob polls.
    for (let i = 0; i < 10 && remote.status !== "success"; i++) remote = await client.getStory(remote.id);
    expect(remote.status).toBe("success");
    const paidBefore = fake.api.paidCalls().length;

    const pulled = await runBin(["pull", remote.id, "-o", "otter.yaml"], { cwd: dir, env: fake.env() });
    expect(pulled.code).toBe(0);
    expect(pulled.stdout).toContain("wrote otter.yaml and otter.lock");
    expect((await runBin(["validate", "otter.yaml"], { cwd: dir })).code).toBe(0);
    const lock = JSON.parse(await readFile(join(dir, "otter.lock"), "utf8"));
    // Each clip is recorded for the scene whose image it was made from.
    for (const n of [1, 2, 3]) {
      const clip = lock.nodes[`scene/${n}/clip`];
      expect(fake.api.clipSources.get(clip.remote.url)?.imageUrl).toBe(lock.nodes[`scene/${n}/image`].remote.url);
    }

    const built = await runBin(["build", "otter.yaml", "--renderer", "vimmerse", "--json"], { cwd: dir, env: fake.env() });
    expect(built.code).toBe(0);
    const finished = built.stdout.trim().split("\n").map((l) => JSON.parse(l)).find((e) => e.type === "finished");
    expect(finished.summary.rendered).toEqual([]);
    expect(fake.api.paidCalls().length).toBe(paidBefore);
    const text = pulled.stdout + pulled.stderr + built.stdout + built.stderr + (await readFile(join(dir, "otter.lock"), "utf8"));
    expect(text).not.toContain(fake.api.key);

    // An edit after the pull pays only for what it changes: the pulled image is restated by URL.
    await editStory(join(dir, "otter.yaml"), "Moment 2 of the story.", "The pebbles fly.");
    const rendered: string[] = [];
    const edited = await build(join(dir, "otter.yaml"), { renderer: renderer(), jobs: 4, onEvent: (e) => e.type === "node-done" && !e.restored && rendered.push(e.id) });
    expect(edited.ok).toBe(true);
    expect(rendered.sort()).toEqual(["scene/2/clip", "scene/2/narration", "video"]);
    const scenes = fake.api.paidCalls().find((c) => c.path.endsWith("/scenes"))!;
    expect(JSON.parse(String(scenes.fields.storyboard)).scenes).toEqual([expect.objectContaining({ image_url: lock.nodes["scene/2/image"].remote.url, narrator: "The pebbles fly." })]);
  }, 30_000);

  it("pull of a story still in progress says so and writes nothing", async () => {
    const { dir } = await storyFile("# unused\n");
    const { VimmerseClient } = await import("../../src/render/vimmerse/client.js");
    const remote = await new VimmerseClient({ apiKey: fake.api.key, baseUrl: fake.api.url }).ideaToVideo({ idea: "a slow story" });
    fake.api.ticksPerJob = 1000;
    const r = await runBin(["pull", remote.id, "-o", "slow.yaml"], { cwd: dir, env: fake.env() });
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/story .* is processing \(\d+%\), not finished/);
    await expect(readFile(join(dir, "slow.yaml"))).rejects.toMatchObject({ code: "ENOENT" });
  });

  it("new --idea --render makes the video with idea-2-video and pulls it: building it pays nothing more", async () => {
    const { dir } = await storyFile("# unused\n");
    const made = await runBin(["new", "--idea", "Two crows trade shiny buttons", "--scenes", "2", "--render", "-o", "crows.yaml"], { cwd: dir, env: fake.env() });
    expect(made.code).toBe(0);
    const paid = fake.api.paidCalls();
    expect(paid.map((c) => c.path)).toEqual(["/story/idea-2-video"]);
    expect(paid[0]!.fields).toMatchObject({ idea: "Two crows trade shiny buttons", scene_count: 2, is_transition: false });
    const built = await runBin(["build", "crows.yaml", "--renderer", "vimmerse"], { cwd: dir, env: fake.env() });
    expect(built.code).toBe(0);
    expect(built.stdout).toMatch(/Built in .*: 0 rendered/);
    expect(fake.api.paidCalls()).toHaveLength(1);
  }, 30_000);
});
