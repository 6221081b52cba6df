import { spawn } from "node:child_process";
import { mkdir, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { binPath, runBin } from "../helpers/cli.js";
import { RenderControl } from "../helpers/render-control.js";
import { copyExample } from "../helpers/story-dir.js";
import { Changes } from "../helpers/wait.js";

interface Child {
  done: Promise<{ code: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string }>;
  kill(signal: NodeJS.Signals): void;
  stdout(): string;
  /** Resolves when an event of this type has been printed (bounded). */
  printed(type: string): Promise<void>;
}

function startBuild(dir: string, args: string[], env: NodeJS.ProcessEnv = {}): Child {
  const child = spawn(process.execPath, [binPath, "build", "promo.yaml", "--renderer", "test", "--json", ...args], {
    cwd: dir,
    env: { ...process.env, NO_COLOR: "1", ...env },
  });
  const timer = setTimeout(() => child.kill("SIGKILL"), 60_000);
  child.on("close", () => clearTimeout(timer));
  let stdout = "";
  let stderr = "";
  const changes = new Changes();
  child.stdout.on("data", (d) => {
    stdout += d;
    changes.notify();
  });
  child.stderr.on("data", (d) => (stderr += d));
  const done = new Promise<{ code: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string }>((resolve) =>
    child.on("close", (code, signal) => resolve({ code, signal, stdout, stderr })),
  );
  const printed = (type: string) => changes.until(() => stdout.includes(`"type":"${type}"`), `a ${type} event`, 30_000, () => stdout + stderr);
  return { done, kill: (s) => child.kill(s), stdout: () => stdout, printed };
}

function events(stdout: string): Array<Record<string, unknown>> {
  return stdout
    .split("\n")
    .filter((l) => l.trim())
    .map((l) => JSON.parse(l));
}

const renderedIn = (stdout: string) => events(stdout).filter((e) => e.type === "node-done" && !e.restored).map((e) => e.id as string);
const restoredIn = (stdout: string) => events(stdout).filter((e) => e.type === "node-done" && e.restored).map((e) => e.id as string);

async function referenceKeys(): Promise<Record<string, string>> {
  const { dir } = await copyExample("promo-vertical", "promo.yaml");
  const r = await runBin(["build", "promo.yaml", "--renderer", "test"], { cwd: dir });
  expect(r.code).toBe(0);
  const lock = JSON.parse(await readFile(join(dir, "promo.lock"), "utf8"));
  return Object.fromEntries(Object.entries(lock.nodes).map(([id, e]) => [id, (e as { key: string }).key]));
}

describe("builds as processes", () => {
  it("a build killed with SIGKILL at any point leaves a lockfile that parses, and the rerun renders only what had not finished", async () => {
    const keys = await referenceKeys();
    const all = Object.keys(keys).sort();
    // Killed before the first node, after one, in the middle, and with only the video left.
    for (const finishedBeforeKill of [0, 1, 9, 28]) {
      const control = await new RenderControl().listen();
      try {
        const { dir } = await copyExample("promo-vertical", "promo.yaml");
        const child = startBuild(dir, ["--jobs", "1"], { STORYC_TEST_CONTROL: control.address });
        const released: string[] = [];
        let held = await control.next();
        while (released.length < finishedBeforeKill) {
          held.go();
          released.push(held.id);
          // With one job, the next node starts only once the previous one is in the lockfile.
          held = await control.next();
        }
        child.kill("SIGKILL");
        await child.done;

        const text = await readFile(join(dir, "promo.lock"), "utf8").catch(() => null);
        const lock = text === null ? { lockfileVersion: 1, nodes: {} } : JSON.parse(text);
        expect(lock.lockfileVersion).toBe(1);
        const finished = Object.keys(lock.nodes).filter((id) => lock.nodes[id].key === keys[id]);
        expect(finished.sort()).toEqual([...released].sort());

        const rerun = await startBuild(dir, []).done;
        expect(rerun.code).toBe(0);
        const rendered = renderedIn(rerun.stdout);
        expect(rendered.filter((id) => finished.includes(id))).toEqual([]);
        expect([...finished, ...rendered, ...restoredIn(rerun.stdout)].sort()).toEqual(all);
        const after = JSON.parse(await readFile(join(dir, "promo.lock"), "utf8"));
        expect(Object.fromEntries(Object.entries(after.nodes).map(([id, e]) => [id, (e as { key: string }).key]))).toEqual(keys);
      } finally {
        await control.close();
      }
    }
  }, 120_000);

  it("two builds of one story started together never corrupt the lockfile or the outputs", async () => {
    const control = await new RenderControl().listen();
    const { dir } = await copyExample("promo-vertical", "promo.yaml");
    const env = { STORYC_TEST_CONTROL: control.address };
    const a = startBuild(dir, ["--lock-timeout", "60"], env);
    const b = startBuild(dir, ["--lock-timeout", "60"], env);
    let results;
    try {
      // Whichever takes the lock starts a node and is held there until the other says it waits.
      const first = await control.next();
      await Promise.any([a.printed("lock-wait"), b.printed("lock-wait")]);
      first.go();
      control.releaseAll(true);
      results = await Promise.all([a.done, b.done]);
    } finally {
      a.kill("SIGKILL");
      b.kill("SIGKILL");
      await control.close();
    }
    const [ra, rb] = results;
    expect([ra.code, rb.code]).toEqual([0, 0]);
    // One of them did the work; the other waited for the lock and found everything fresh.
    const rendered = [...renderedIn(ra.stdout), ...renderedIn(rb.stdout)];
    expect(rendered).toHaveLength(29);
    const lock = JSON.parse(await readFile(join(dir, "promo.lock"), "utf8"));
    expect(Object.keys(lock.nodes)).toHaveLength(29);
    const video = JSON.parse(await readFile(join(dir, "out/promo/promo.txt"), "utf8"));
    expect(video.id).toBe("video");
  }, 60_000);

  it("a second build without --lock-timeout says who holds the lock", async () => {
    const control = await new RenderControl().listen();
    const { dir } = await copyExample("promo-vertical", "promo.yaml");
    const first = startBuild(dir, ["--jobs", "1"], { STORYC_TEST_CONTROL: control.address });
    await control.next();
    const second = await runBin(["build", "promo.yaml", "--renderer", "test"], { cwd: dir });
    expect(second.code).toBe(1);
    expect(second.stderr).toMatch(/another storyc \(pid \d+ on .+, "storyc build promo.yaml --renderer test --json --jobs 1", since .+\) is building this story/);
    expect(second.stderr).toContain("--lock-timeout");

    // With a timeout it waits, says so, and gives up when the time is out, naming the holder again.
    const waited = await runBin(["build", "promo.yaml", "--renderer", "test", "--json", "--lock-timeout", "0.5"], { cwd: dir });
    expect(waited.code).toBe(1);
    expect(waited.stdout).toContain('"type":"lock-wait"');
    expect(waited.stderr).toMatch(/another storyc \(pid \d+ on .+\) is building this story/);
    first.kill("SIGKILL");
    await first.done;
    await control.close();
  }, 30_000);

  it("takes over a lock left by a dead process at once", async () => {
    const { dir } = await copyExample("promo-vertical", "promo.yaml");
    const dead = spawn(process.execPath, ["-e", "0"]);
    const pid = dead.pid!;
    await new Promise((resolve) => dead.on("close", resolve));
    const first = await runBin(["build", "promo.yaml", "--renderer", "test"], { cwd: dir });
    expect(first.code).toBe(0);
    const { hostname } = await import("node:os");
    await mkdir(join(dir, ".storyc", "locks"), { recursive: true });
    const { readdir } = await import("node:fs/promises");
    // The lock's name is derived from the story; find it by building once (it is removed on exit) and re-create it.
    const lockName = (await readdir(join(dir, ".storyc", "locks"))).find((f) => f.endsWith(".lock")) ?? null;
    expect(lockName).toBeNull();
    const { storyPaths } = await import("../../src/project/paths.js");
    const lockPath = storyPaths(join(dir, "promo.yaml")).writerLock;
    await writeFile(lockPath, JSON.stringify({ pid, host: hostname(), command: "storyc build", since: new Date().toISOString() }));
    const r = await runBin(["build", "promo.yaml", "--renderer", "test"], { cwd: dir });
    expect(r.code).toBe(0);
  }, 30_000);

});

describe("storyc plan, graph and gc", () => {
  it("plan lists each node with its reason, ends with the count, and --detailed-exitcode says if work is pending", async () => {
    const { dir, story } = await copyExample("promo-vertical", "promo.yaml");
    const fresh = await runBin(["plan", "promo.yaml", "--renderer", "test", "--detailed-exitcode"], { cwd: dir });
    expect(fresh.code).toBe(2);
    expect(fresh.stdout).toMatch(/^\+ element\/characters\/Pip +new$/m);
    expect(fresh.stdout.trim().split("\n").at(-1)).toBe("Plan: 29 to generate, 0 to regenerate, 0 to remove, 0 fresh");
    await runBin(["build", "promo.yaml", "--renderer", "test"], { cwd: dir });
    const done = await runBin(["plan", "promo.yaml", "--renderer", "test", "--detailed-exitcode"], { cwd: dir });
    expect(done.code).toBe(0);
    await writeFile(story, (await readFile(story, "utf8")).replace("Every band starts with one small sound.", "Every band starts small."));
    const changed = await runBin(["plan", "promo.yaml", "--renderer", "test", "--json"], { cwd: dir });
    expect(changed.code).toBe(0);
    const json = JSON.parse(changed.stdout);
    expect(json.counts).toEqual({ create: 0, update: 3, delete: 0, fresh: 26 });
    expect(json.items.find((i: { id: string }) => i.id === "scene/tune-up/narration")).toEqual({ id: "scene/tune-up/narration", action: "update", reasons: ["text changed"] });
    expect(json.items.find((i: { id: string }) => i.id === "scene/tune-up/clip").reasons).toEqual(["scene/tune-up/narration changed"]);
  });

  it("graph prints Mermaid and DOT", async () => {
    const { dir } = await copyExample("promo-vertical", "promo.yaml");
    const mermaid = await runBin(["graph", "promo.yaml"], { cwd: dir });
    expect(mermaid.stdout.split("\n")[0]).toBe("flowchart LR");
    expect(mermaid.stdout).toContain('["scene/tune-up/clip"]');
    const dot = await runBin(["graph", "promo.yaml", "--format", "dot"], { cwd: dir });
    expect(dot.stdout).toContain('"scene/tune-up/image" -> "scene/tune-up/clip";');
    expect(dot.stdout).toContain('"element/characters/Pip" -> "scene/tune-up/image";');
    expect((await runBin(["graph", "promo.yaml", "--format", "png"], { cwd: dir })).code).toBe(2);
  });

  it("gc removes blobs no lockfile references and reports the bytes reclaimed", async () => {
    const { dir, story } = await copyExample("promo-vertical", "promo.yaml");
    await mkdir(join(dir, ".git"));
    await runBin(["build", "promo.yaml", "--renderer", "test"], { cwd: dir });
    await writeFile(story, (await readFile(story, "utf8")).replace("Every band starts with one small sound.", "Every band starts small."));
    await runBin(["build", "promo.yaml", "--renderer", "test"], { cwd: dir });
    const gc = await runBin(["gc"], { cwd: dir });
    expect(gc.code).toBe(0);
    expect(gc.stdout).toMatch(/removed 3 blobs, kept 29; reclaimed \d+(\.\d)? (B|KiB)/);
    const plan = await runBin(["plan", "promo.yaml", "--renderer", "test", "--detailed-exitcode"], { cwd: dir });
    expect(plan.code).toBe(0);
  });
});
