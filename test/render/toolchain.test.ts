import { chmod, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { locateFfmpeg } from "../../src/render/local/ffmpeg.js";
import { runBin, STACK_TRACE } from "../helpers/cli.js";
import { copyExample } from "../helpers/story-dir.js";

const dirs: string[] = [];
let fakeFfmpeg: string;

beforeAll(async () => {
  const dir = await mkdtemp(join(tmpdir(), "storyc-toolchain-"));
  dirs.push(dir);
  // An ffmpeg built without libx264: the real one, with that encoder left out of its list.
  fakeFfmpeg = join(dir, "ffmpeg");
  const real = locateFfmpeg().path;
  await writeFile(
    fakeFfmpeg,
    `#!/bin/sh\nfor a in "$@"; do if [ "$a" = "-encoders" ]; then "${real}" "$@" | grep -v libx264; exit $?; fi; done\nexec "${real}" "$@"\n`,
  );
  await chmod(fakeFfmpeg, 0o755);
});
afterAll(async () => {
  await Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true })));
});

async function example(name: string, file: string) {
  const copy = await copyExample(name, file);
  dirs.push(copy.dir);
  return copy;
}

describe("storyc doctor", () => {
  it("lists Node, ffmpeg with its version and features, fonts, speech, cache and config, and exits 0", async () => {
    const { dir } = await example("suited-man", "suited-man.yaml");
    const r = await runBin(["doctor", "--json"], { cwd: dir });
    expect(r.code).toBe(0);
    const report = JSON.parse(r.stdout) as { ok: boolean; checks: Array<{ name: string; ok: boolean; detail: string }> };
    expect(report.checks.map((c) => c.name)).toEqual(["node", "ffmpeg", "ffmpeg features", "fonts", "speech", "cache", "project config"]);
    expect(report.checks.every((c) => c.ok)).toBe(true);
    expect(report.checks.find((c) => c.name === "ffmpeg")!.detail).toMatch(/^ffmpeg \S+ \(/);
  });

  it("exits 1 and names the missing encoder with its fix", async () => {
    const { dir } = await example("suited-man", "suited-man.yaml");
    const r = await runBin(["doctor"], { cwd: dir, env: { STORYC_FFMPEG: fakeFfmpeg } });
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/FAIL ffmpeg features\s+missing: encoder libx264/);
    expect(r.stdout).toContain("fix: use the bundled ffmpeg");
    expect(r.stdout).toContain("1 of 7 checks failed");
  });
});

describe("the ffmpeg a build uses", () => {
  it("is refused before anything renders when it lacks what storyc needs, naming what", async () => {
    const { dir } = await example("suited-man", "suited-man.yaml");
    const r = await runBin(["build", "suited-man.yaml"], { cwd: dir, env: { STORYC_FFMPEG: fakeFfmpeg } });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`the ffmpeg at ${fakeFfmpeg}`);
    expect(r.stderr).toContain("lacks what storyc needs: encoder libx264");
    expect(r.stderr + r.stdout).not.toMatch(STACK_TRACE);
    await expect(readFile(join(dir, "suited-man.lock"), "utf8")).rejects.toThrow();
  });

  it("is part of the keys of what it encodes only: another ffmpeg plans the clips, crossfades, sound and video again, not the stills or narration", async () => {
    const { dir } = await example("suited-man", "suited-man.yaml");
    expect((await runBin(["build", "suited-man.yaml", "--json"], { cwd: dir, env: { STORYC_FFMPEG: "bundled" } })).code).toBe(0);
    const same = await runBin(["plan", "suited-man.yaml", "--json"], { cwd: dir, env: { STORYC_FFMPEG: "bundled" } });
    expect((JSON.parse(same.stdout) as { counts: Record<string, number> }).counts).toMatchObject({ create: 0, update: 0 });

    // The fake reports the same build (it runs the real binary), so give it another identity: a different -version.
    const other = join(dirs[0]!, "ffmpeg-other");
    await writeFile(other, `#!/bin/sh\nfor a in "$@"; do if [ "$a" = "-version" ]; then "${locateFfmpeg().path}" "$@" | sed 's/^ffmpeg version /ffmpeg version other-/'; exit $?; fi; done\nexec "${locateFfmpeg().path}" "$@"\n`);
    await chmod(other, 0o755);
    const r = await runBin(["plan", "suited-man.yaml", "--json"], { cwd: dir, env: { STORYC_FFMPEG: other } });
    const plan = JSON.parse(r.stdout) as { items: Array<{ id: string; action: string; reasons: string[] }> };
    const changed = plan.items.filter((i) => i.action === "update");
    const kinds = new Set(changed.map((i) => (i.id === "video" || i.id === "title" ? i.id : i.id.split("/").at(-1))));
    expect([...kinds].sort()).toEqual(["clip", "crossfade", "sound", "title", "video"]);
    for (const item of plan.items) if (/\/(image|narration)$|^element\//.test(item.id)) expect(item.action).toBe("fresh");
    expect(changed.find((i) => i.id === "title")!.reasons.join(" ")).toContain("toolchain");
  });
});
