import { readFile, rm } from "node:fs/promises";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { runBin } from "../helpers/cli.js";
import { startNginxCache, type NginxCache } from "../helpers/nginx.js";
import { TempDirs } from "../helpers/story-repo.js";
import { fakeVimmersePerTest } from "../fake-vimmerse/per-test.js";

// suited-man crossfades: its video is joined here from real clips.
const fake = fakeVimmersePerTest({ realMedia: true });
const temps = new TempDirs();
const servers: NginxCache[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.dispose()));
  await temps.removeAll();
});

describe("paid work shared through the remote cache (cloud renderer, fake Story API)", () => {
  it("a teammate's build of the same story makes no paid request, with or without the lockfile", async () => {
    const server = await startNginxCache();
    servers.push(server);
    const repo = await temps.storyRepo("suited-man");
    const args = ["build", "suited-man.yaml", "--renderer", "vimmerse", "--remote-cache", server.url];
    const first = await runBin(args, { cwd: repo, env: fake.env() });
    expect(first.code).toBe(0);
    const paid = fake.api.arrivals.filter((a) => a.startsWith("POST")).length;
    expect(paid).toBeGreaterThan(0);
    await temps.commitAll(repo, "build");
    const video = await readFile(join(repo, "out", "suited-man", "suited-man.mp4"));

    const clone = await temps.clone(repo);
    const teammate = await runBin(args, { cwd: clone, env: fake.env() });
    expect(teammate.code).toBe(0);
    expect(teammate.stdout).toMatch(/: 0 rendered, /);
    expect(await readFile(join(clone, "out", "suited-man", "suited-man.mp4"))).toEqual(video);

    // Another branch without the lockfile: the action entries carry the remote records.
    const other = await temps.clone(repo);
    await rm(join(other, "suited-man.lock"));
    const third = await runBin(args, { cwd: other, env: fake.env() });
    expect(third.code).toBe(0);
    const lock = JSON.parse(await readFile(join(other, "suited-man.lock"), "utf8")) as { nodes: Record<string, { remote?: Record<string, unknown> }> };
    const original = JSON.parse(await readFile(join(repo, "suited-man.lock"), "utf8")) as typeof lock;
    const clip = "scene/introduction/clip";
    expect(lock.nodes[clip]?.remote).toEqual(original.nodes[clip]?.remote);
    expect(lock.nodes[clip]?.remote).toBeDefined();
    expect(await readFile(join(other, "out", "suited-man", "suited-man.mp4"))).toEqual(video);

    expect(fake.api.arrivals.filter((a) => a.startsWith("POST")).length).toBe(paid);
  }, 120_000);
});
