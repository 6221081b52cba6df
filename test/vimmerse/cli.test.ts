import { spawn } from "node:child_process";
import { readdir, readFile } from "node:fs/promises";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { binPath, runBin, STACK_TRACE } from "../helpers/cli.js";
import { copyExample, editStory } from "../helpers/story-dir.js";
import { fakeVimmersePerTest } from "../fake-vimmerse/per-test.js";

// suited-man crossfades: its video is joined here from real clips.
const fake = fakeVimmersePerTest({ realMedia: true });
const env = () => fake.env();

/** Runs `storyc build --renderer vimmerse`, killing it with SIGKILL when `killWhen` says so. */
function buildKilledWhen(dir: string, killWhen: (call: { method: string; path: string }) => boolean): Promise<number | null> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [binPath, "build", "suited-man.yaml", "--renderer", "vimmerse", "--json"], { cwd: dir, env: { ...process.env, ...env() }, stdio: "ignore" });
    let killed = false;
    fake.api.onRequest = (call) => {
      if (!killed && killWhen(call)) {
        killed = true;
        child.kill("SIGKILL");
      }
    };
    child.on("close", (code) => {
      fake.api.onRequest = null;
      resolve(code);
    });
  });
}

async function allFiles(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const e of await readdir(dir, { withFileTypes: true, recursive: true })) if (e.isFile()) out.push(join(e.parentPath, e.name));
  return out;
}

describe("never paying twice", () => {
  it("a build killed as its paid request reaches the API, then run again, polls that work instead of asking again", async () => {
    const { dir } = await copyExample("suited-man", "suited-man.yaml");
    await buildKilledWhen(dir, (c) => c.method === "POST" && c.path.endsWith("/scenes"));
    const lock = JSON.parse(await readFile(join(dir, "suited-man.lock"), "utf8"));
    expect(lock.pending["scene/introduction/image"].remote).toMatchObject({ stage: "scenes", state: "requested" });
    const rerun = await runBin(["build", "suited-man.yaml", "--renderer", "vimmerse"], { cwd: dir, env: env() });
    expect(rerun.code).toBe(0);
    expect(fake.api.arrivals.filter((a) => a.startsWith("POST") && a.endsWith("/scenes"))).toHaveLength(1);
    expect(fake.api.arrivals.filter((a) => a === "POST /story")).toHaveLength(1);
    expect(fake.api.generated.sceneImages).toBe(2);
  }, 60_000);

  it("a build killed while it polls paid work, run again, makes no second paid request for it", async () => {
    const { dir } = await copyExample("suited-man", "suited-man.yaml");
    let postedVideos = false;
    await buildKilledWhen(dir, (c) => {
      if (c.method === "POST" && c.path.endsWith("/videos")) postedVideos = true;
      return postedVideos && c.method === "GET";
    });
    const rerun = await runBin(["build", "suited-man.yaml", "--renderer", "vimmerse"], { cwd: dir, env: env() });
    expect(rerun.code).toBe(0);
    for (const stage of ["elements", "scenes", "videos"]) expect(fake.api.arrivals.filter((a) => a.startsWith("POST") && a.endsWith(`/${stage}`))).toHaveLength(1);
    expect(fake.api.generated.videos).toBe(2);
  }, 60_000);
});

describe("the API key", () => {
  it("appears in no output, log, error or file that storyc writes", async () => {
    const { dir, story } = await copyExample("suited-man", "suited-man.yaml");
    const good = await runBin(["build", "suited-man.yaml", "--renderer", "vimmerse", "--json"], { cwd: dir, env: env() });
    expect(good.code).toBe(0);
    await editStory(story, "He knows exactly where he is going, and why.", "He knows where he is going.");
    const wrong = await runBin(["build", "suited-man.yaml", "--renderer", "vimmerse"], { cwd: dir, env: { ...env(), VIMMERSE_API_KEY: `${fake.api.key}-wrong` } });
    expect(wrong.code).toBe(1);
    expect(wrong.stdout + wrong.stderr).toContain("the Story API refused the key (HTTP 401)");
    expect(wrong.stdout + wrong.stderr).not.toMatch(STACK_TRACE);
    const planned = await runBin(["plan", "suited-man.yaml", "--renderer", "vimmerse"], { cwd: dir, env: env() });
    for (const text of [good.stdout, good.stderr, wrong.stdout, wrong.stderr, planned.stdout, planned.stderr]) expect(text).not.toContain(fake.api.key);
    for (const file of await allFiles(dir)) expect((await readFile(file)).includes(fake.api.key)).toBe(false);
  }, 60_000);
});

describe("storyc plan and new with the cloud", () => {
  it("plan --renderer vimmerse ends with the estimated credits", async () => {
    const { dir } = await copyExample("suited-man", "suited-man.yaml");
    const r = await runBin(["plan", "suited-man.yaml", "--renderer", "vimmerse"], { cwd: dir, env: env() });
    // 3 elements x 2, music 5, 2 scene images x 2, 2 narrations x 1, 2 clips x 5 s x 10; the video crossfades, joined here for nothing
    expect(r.stdout.trim().split("\n").at(-1)).toBe("Plan: 12 to generate, 0 to regenerate, 0 to remove, 0 fresh; estimated cost: ~117 credits");
    expect(r.stdout).toMatch(/^\+ scene\/introduction\/clip +new +~50 credits$/m);
  });

  it("new drafts a valid story through POST /story, and a labelled template without a key", async () => {
    const { dir } = await copyExample("suited-man", "suited-man.yaml");
    const r = await runBin(["new", "--idea", "Cats play drums in a jazz club", "--scenes", "4", "--aspect", "9:16", "-o", "cats.yaml"], { cwd: dir, env: env() });
    expect(r.code).toBe(0);
    expect(r.stdout).toContain("wrote cats.yaml (4 scenes, drafted by the Story API)");
    expect(fake.api.calls.find((c) => c.path === "/story")?.fields).toMatchObject({ idea: "Cats play drums in a jazz club", scene_count: 4, aspect_ratio: "9:16" });
    const text = await readFile(join(dir, "cats.yaml"), "utf8");
    expect(text.split("\n")[0]).toMatch(/^# yaml-language-server: \$schema=.*story\.schema\.json$/);
    expect((await runBin(["validate", "cats.yaml"], { cwd: dir })).code).toBe(0);

    const offline = await runBin(["new", "--idea", "A quiet harbour", "-o", "harbour.yaml"], { cwd: dir, env: { VIMMERSE_API_KEY: "" } });
    expect(offline.stdout).toContain("template: VIMMERSE_API_KEY is not set");
    expect(await readFile(join(dir, "harbour.yaml"), "utf8")).toContain("# TEMPLATE DRAFT");
    expect((await runBin(["validate", "harbour.yaml"], { cwd: dir })).code).toBe(0);
    expect((await runBin(["new", "--idea", "again", "-o", "harbour.yaml"], { cwd: dir })).code).toBe(1);
  });
});
