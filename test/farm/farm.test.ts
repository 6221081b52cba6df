import { spawn } from "node:child_process";
import { createRequire } from "node:module";
import { copyFile, readdir, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { Queue, QueueEvents } from "bullmq";
import { afterEach, describe, expect, it } from "vitest";
import { QUEUE_NAME } from "../../src/farm/connection.js";
import type { FarmJobData, FarmJobResult } from "../../src/farm/job.js";
import { binPath, repoRoot, runBin, type CliResult } from "../helpers/cli.js";
import { freePort, startNginxCache, type NginxCache } from "../helpers/nginx.js";
import { startRedis, type RedisServer } from "../helpers/redis.js";
import { TempDirs } from "../helpers/story-repo.js";
import { RenderControl } from "../helpers/render-control.js";
import { editStory } from "../helpers/story-dir.js";
import { Changes } from "../helpers/wait.js";
import { startWorker, type WorkerProcess } from "../helpers/workers.js";

const temps = new TempDirs();
const redises: RedisServer[] = [];
const caches: NginxCache[] = [];
const workers: WorkerProcess[] = [];
const builds: Array<{ kill(): void; done: Promise<CliResult> }> = [];
const controls: RenderControl[] = [];
afterEach(async () => {
  for (const b of builds.splice(0)) b.kill();
  await Promise.all(workers.splice(0).map((w) => w.kill()));
  await Promise.all(controls.splice(0).map((c) => c.close()));
  await Promise.all([...redises.splice(0).map((r) => r.dispose()), ...caches.splice(0).map((c) => c.dispose())]);
  await temps.removeAll();
});

// The bundled ffmpeg 4.1, as the remote cache tests use: Debian's 5.1 fails the video node on this branch.
const FFMPEG = { STORYC_FFMPEG: (createRequire(import.meta.url)("@ffmpeg-installer/ffmpeg") as { path: string }).path };
// Short locks, so that a killed worker's node goes to another within seconds (30 s by default).
// Only where a test kills a worker: a busy machine can delay a renewal by a second, and the node is then made twice.
const FAST_LOCKS = { STORYC_WORKER_LOCK_TIMEOUT: "1" };

async function farm(count: number, options: { renderer?: string; env?: NodeJS.ProcessEnv } = {}) {
  const [redis, cache] = await Promise.all([startRedis(), startNginxCache()]);
  redises.push(redis);
  caches.push(cache);
  const started = await Promise.all(
    Array.from({ length: count }, async (_, i) =>
      startWorker({ queue: redis.url, remoteCache: cache.url, name: `w${i + 1}`, cacheDir: await temps.make(`worker${i + 1}`), renderer: options.renderer ?? "test", env: options.env ?? {} }),
    ),
  );
  workers.push(...started);
  return { redis, cache, workers: started };
}

/** A build in a child process, so that a test can kill it; its output comes with `done`. */
function startBuild(cwd: string, args: string[], env: NodeJS.ProcessEnv = {}) {
  const child = spawn(process.execPath, [binPath, "build", ...args], { cwd, env: { ...process.env, NO_COLOR: "1", ...env }, stdio: ["ignore", "pipe", "pipe"] });
  let stdout = "";
  let stderr = "";
  child.stdout.on("data", (d: Buffer) => (stdout += d.toString()));
  child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
  const done = new Promise<CliResult>((resolve) => child.once("exit", (code) => resolve({ code: code ?? 1, stdout, stderr })));
  const handle = { kill: () => child.kill("SIGKILL"), done, output: () => stdout };
  builds.push(handle);
  return handle;
}

type Event = { type: string; id?: string; worker?: string; restored?: boolean; remote?: boolean };
const events = (stdout: string): Event[] => stdout.split("\n").filter((l) => l.startsWith("{")).map((l) => JSON.parse(l) as Event);
/** Node id -> key, from a lockfile. */
const keysOf = async (lockfile: string): Promise<Record<string, string>> => {
  const lock = JSON.parse(await readFile(lockfile, "utf8")) as { nodes: Record<string, { key: string }> };
  return Object.fromEntries(Object.entries(lock.nodes).map(([id, n]) => [id, n.key]));
};

/**
 * A control server that holds the named nodes in whichever worker renders
 * them, until the test says go; the env to give the workers.
 */
async function holding(nodes: string[]) {
  const control = await new RenderControl().listen();
  controls.push(control);
  return { control, env: { STORYC_TEST_CONTROL: control.address, STORYC_TEST_CONTROL_NODES: nodes.join(",") } };
}

describe("storyc build --queue (render farm on Redis)", () => {
  it("two workers build a story whose MP4 is byte-identical to a build on one machine, and name themselves in the events", async () => {
    const { redis, cache, workers: [w1, w2] } = await farm(2, { renderer: "local", env: FFMPEG });
    const alone = await temps.storyRepo("lighthouse");
    const farmed = await temps.storyRepo("lighthouse");

    const local = await runBin(["build", "lighthouse.yaml"], { cwd: alone, env: FFMPEG });
    expect(local.code).toBe(0);
    const built = await runBin(["build", "lighthouse.yaml", "--queue", redis.url, "--remote-cache", cache.url, "--json"], { cwd: farmed, env: FFMPEG });
    expect(built.stderr).toBe("");
    expect(built.code).toBe(0);

    const mp4 = (dir: string) => readFile(join(dir, "out", "lighthouse", "lighthouse.mp4"));
    const [a, b] = await Promise.all([mp4(alone), mp4(farmed)]);
    expect(a.length).toBeGreaterThan(10_000);
    expect(b.equals(a)).toBe(true);
    const keys = await keysOf(join(alone, "lighthouse.lock"));
    expect(Object.keys(keys)).toContain("video");
    expect(await keysOf(join(farmed, "lighthouse.lock"))).toEqual(keys);

    // Every node was made by a worker (none here), each printed once, and the events say which.
    const done = events(built.stdout).filter((e) => e.type === "node-done");
    const madeBy = new Map(done.map((e) => [e.id!, e.worker]));
    const printed = [...w1!.rendered(), ...w2!.rendered()];
    expect(printed.sort()).toEqual([...madeBy.keys()].sort());
    for (const id of w1!.rendered()) expect(madeBy.get(id)).toBe("w1");
    for (const id of w2!.rendered()) expect(madeBy.get(id)).toBe("w2");

    // Built again: nothing is queued, nothing rendered.
    const again = await runBin(["build", "lighthouse.yaml", "--queue", redis.url, "--remote-cache", cache.url], { cwd: farmed, env: FFMPEG });
    expect(again.code).toBe(0);
    expect(again.stdout).toMatch(/: 0 rendered, 0 restored from the cache, \d+ fresh/);
    expect([...w1!.rendered(), ...w2!.rendered()]).toHaveLength(printed.length);

    // SIGTERM: each worker exits 0 and says so.
    expect(await w1!.stop()).toBe(0);
    expect(await w2!.stop()).toBe(0);
    expect(w1!.stdout()).toMatch(/worker w1 stopped\n$/);
  }, 180_000);

  it("a worker SIGKILLed in the middle of a node does not stop the build: another worker makes the node", async () => {
    const node = "scene/hop/clip";
    const { control, env } = await holding([node]);
    const { redis, cache, workers: all } = await farm(3, { env: { ...env, ...FAST_LOCKS } });
    const repo = await temps.storyRepo("bunny");

    const build = startBuild(repo, ["bunny.yaml", "--renderer", "test", "--queue", redis.url, "--remote-cache", cache.url, "--json"]);
    const first = await control.next();
    expect(first.id).toBe(node);
    const victim = all.find((w) => w.pid === first.pid)!;
    await victim.kill();
    // The job's lock runs out, a stalled-job check hands it to another worker, which starts it again.
    const again = await control.next(30_000);
    expect(again.id).toBe(node);
    expect(again.pid).not.toBe(first.pid);
    again.go();

    const result = await build.done;
    expect(result.stderr).toBe("");
    expect(result.code).toBe(0);
    const done = events(result.stdout).find((e) => e.type === "node-done" && e.id === node)!;
    const rescuer = all.find((w) => w.pid === again.pid)!;
    expect(done.worker).toBe(rescuer.name);
    expect(rescuer.rendered()).toContain(node);
    expect(victim.rendered()).not.toContain(node);
    expect(await readFile(join(repo, "out", "bunny", "bunny.txt"), "utf8")).toContain('"id": "video"');
  }, 120_000);

  it("SIGTERM lets a worker finish the node in hand and exit 0; a second SIGTERM hands the node back to another worker at once", async () => {
    const nodes = ["scene/hop/clip", "scene/taste/clip"];
    const { control, env } = await holding(nodes);
    // Default locks (30 s): the node handed back is taken well before a stalled-job check could.
    const { redis, cache, workers: all } = await farm(3, { env });
    const repo = await temps.storyRepo("bunny");
    const build = startBuild(repo, ["bunny.yaml", "--renderer", "test", "--queue", redis.url, "--remote-cache", cache.url, "--json"]);
    const held = await Promise.all([control.next(), control.next()]);
    const [kept, handedBack] = nodes.map((id) => held.find((h) => h.id === id)!);
    const byPid = (pid: number) => all.find((w) => w.pid === pid)!;
    const [finisher, quitter] = [byPid(kept!.pid), byPid(handedBack!.pid)];
    expect(finisher).not.toBe(quitter);

    // One SIGTERM: the node in hand finishes, then the worker exits 0.
    process.kill(finisher.pid, "SIGTERM");
    await finisher.said("SIGTERM: finishing the nodes in hand");
    kept!.go();
    expect(await finisher.exited).toBe(0);
    expect(finisher.rendered()).toContain(nodes[0]);

    // Two: the render stops and the job goes back to the queue; the third worker takes it.
    process.kill(quitter.pid, "SIGTERM");
    await quitter.said("SIGTERM: finishing");
    process.kill(quitter.pid, "SIGTERM");
    await handedBack!.aborted;
    handedBack!.go();
    expect(await quitter.exited).toBe(0);
    const third = all.find((w) => w !== finisher && w !== quitter)!;
    const retaken = await control.next(10_000);
    expect(retaken).toMatchObject({ id: nodes[1], pid: third.pid });
    retaken.go();

    const result = await build.done;
    expect(result.code).toBe(0);
    const doneBy = new Map(events(result.stdout).filter((e) => e.type === "node-done").map((e) => [e.id!, e.worker]));
    expect(doneBy.get(nodes[0]!)).toBe(finisher.name);
    expect(doneBy.get(nodes[1]!)).toBe(third.name);
    expect(quitter.rendered()).not.toContain(nodes[1]);
  }, 120_000);

  it("several stories built at once share the farm: each distinct key made once, every video written", async () => {
    const { redis, cache, workers: [w1, w2] } = await farm(2);
    const repo = await temps.storyRepo("bunny");
    await copyFile(join(repoRoot, "examples", "suited-man", "suited-man.yaml"), join(repo, "suited-man.yaml"));
    const built = await runBin(["build", "--renderer", "test", "--queue", redis.url, "--remote-cache", cache.url], { cwd: repo });
    expect(built.stderr).toBe("");
    expect(built.code).toBe(0);
    expect(built.stdout).toContain("Built 2 stories");
    const keys = [...Object.values(await keysOf(join(repo, "bunny.lock"))), ...Object.values(await keysOf(join(repo, "suited-man.lock")))];
    const made = [...w1!.rendered(), ...w2!.rendered()];
    expect(new Set(keys).size).toBe(made.length);
    for (const story of ["bunny", "suited-man"]) expect(await readFile(join(repo, "out", story, `${story}.txt`), "utf8")).toContain('"id": "video"');
  }, 60_000);

  it("a duplicate delivery of a job changes nothing: same blobs, same action entry, same lockfile, nothing to rebuild", async () => {
    const { redis, cache, workers: [w1] } = await farm(1);
    const repo = await temps.storyRepo("suited-man");
    const args = ["suited-man.yaml", "--renderer", "test", "--queue", redis.url, "--remote-cache", cache.url];
    expect((await runBin(["build", ...args], { cwd: repo })).code).toBe(0);
    const snapshot = async () => {
      const files = (await readdir(cache.root, { recursive: true, withFileTypes: true })).filter((e) => e.isFile()).map((e) => join(e.parentPath, e.name)).sort();
      return Promise.all(files.map(async (f) => [f, (await readFile(f)).toString("base64")]));
    };
    const before = await snapshot();
    const lockBefore = await readFile(join(repo, "suited-man.lock"), "utf8");
    const rendered = w1!.rendered().length;

    const queue = new Queue<FarmJobData, FarmJobResult>(QUEUE_NAME, { connection: { host: "127.0.0.1", port: redis.port } });
    const queueEvents = new QueueEvents(QUEUE_NAME, { connection: { host: "127.0.0.1", port: redis.port } });
    try {
      const key = (await keysOf(join(repo, "suited-man.lock"))).video!;
      const original = (await queue.getJob(key))!;
      expect(original.returnvalue.worker).toBe("w1");
      // The job carries ids, keys and content hashes: nothing of the building machine's disk.
      expect(JSON.stringify(original.data)).not.toContain(repo);
      expect(original.data.deps.clips).toEqual(expect.arrayContaining([expect.objectContaining({ outputs: [expect.objectContaining({ sha256: expect.stringMatching(/^[0-9a-f]{64}$/) })] })]));
      // Submitted again under its key (a second build, another story): one job, nothing made again.
      const same = await queue.add("video", original.data, { jobId: key });
      expect(same.id).toBe(key);
      // Delivered again under another id (at-least-once delivery after a lost acknowledgement): made again.
      await queueEvents.waitUntilReady();
      const redelivered = await queue.add("video", original.data, { jobId: `${key}-again` });
      const result = await redelivered.waitUntilFinished(queueEvents, 30_000);
      expect(result.outputs).toEqual(original.returnvalue.outputs);
    } finally {
      await queueEvents.close();
      await queue.close();
    }
    expect(w1!.rendered()).toHaveLength(rendered + 1);
    expect(await snapshot()).toEqual(before);
    const rebuilt = await runBin(["build", ...args], { cwd: repo });
    expect(rebuilt.code).toBe(0);
    expect(rebuilt.stdout).toMatch(/: 0 rendered, 0 restored from the cache, \d+ fresh/);
    expect(await readFile(join(repo, "suited-man.lock"), "utf8")).toBe(lockBefore);
  }, 120_000);

  it("a build killed and run again takes what the workers finished from the remote cache and queues none of it again", async () => {
    const { control, env } = await holding(["video"]);
    const { redis, cache, workers: [w1, w2] } = await farm(2, { env });
    const repo = await temps.storyRepo("suited-man");
    const args = ["suited-man.yaml", "--renderer", "test", "--queue", redis.url, "--remote-cache", cache.url, "--json"];

    const first = startBuild(repo, args);
    const video = await control.next();
    first.kill();
    await first.done;
    // The worker finishes the node of the build that died, and puts it in the remote cache.
    video.go();
    const maker = [w1!, w2!].find((w) => w.pid === video.pid)!;
    await maker.said("rendered video in");
    const made = [...w1!.rendered(), ...w2!.rendered()].length;

    const rerun = await runBin(["build", ...args], { cwd: repo });
    expect(rerun.code).toBe(0);
    const restored = events(rerun.stdout).find((e) => e.type === "node-done" && e.id === "video")!;
    expect(restored).toMatchObject({ restored: true, remote: true });
    expect(events(rerun.stdout).filter((e) => e.type === "node-start")).toEqual([]);
    expect([...w1!.rendered(), ...w2!.rendered()]).toHaveLength(made);
    expect(await readFile(join(repo, "out", "suited-man", "suited-man.txt"), "utf8")).toContain('"id": "video"');
  }, 120_000);

  it("a worker whose renderer or toolchain differs from the build's refuses the node, naming both, and is not retried", async () => {
    const { redis, cache, workers: [w1] } = await farm(1, { renderer: "local", env: FFMPEG });
    const repo = await temps.storyRepo("suited-man");
    const built = await runBin(["build", "suited-man.yaml", "--renderer", "test", "--queue", redis.url, "--remote-cache", cache.url], { cwd: repo });
    expect(built.code).toBe(1);
    expect(built.stdout).toMatch(/toolchain mismatch for [^:]+: the build expects test 1, toolchain \w{12}, worker w1 has local [^,]+ \(quality=standard\), toolchain \w{12}/);
    expect(w1!.rendered()).toEqual([]);
    expect(w1!.stdout()).not.toContain("will be tried again");
  }, 60_000);

  it("--force makes a node again on the farm instead of taking the job it finished before", async () => {
    const { redis, cache, workers: [w1] } = await farm(1);
    const repo = await temps.storyRepo("suited-man");
    const args = ["suited-man.yaml", "--renderer", "test", "--queue", redis.url, "--remote-cache", cache.url];
    expect((await runBin(["build", ...args], { cwd: repo })).code).toBe(0);
    const before = w1!.rendered().length;
    const forced = await runBin(["build", ...args, "--force", "video"], { cwd: repo });
    expect(forced.code).toBe(0);
    expect(forced.stdout).toMatch(/: 1 rendered/);
    expect(w1!.rendered().slice(before)).toEqual(["video"]);
  }, 60_000);

  it("queue: in storyc.config.yaml sends the build to the farm; a password there is refused", async () => {
    const { redis, cache, workers: [w1] } = await farm(1);
    const repo = await temps.storyRepo("suited-man");
    await writeFile(join(repo, "storyc.config.yaml"), `renderer: test\nqueue: ${redis.url}\nremote_cache: ${cache.url}\n`);
    const built = await runBin(["build", "suited-man.yaml"], { cwd: repo });
    expect(built.code).toBe(0);
    expect(w1!.rendered()).toContain("video");
    await writeFile(join(repo, "storyc.config.yaml"), `renderer: test\nqueue: redis://:pw-in-config@127.0.0.1:${redis.port}\nremote_cache: ${cache.url}\n`);
    const refused = await runBin(["build", "suited-man.yaml"], { cwd: repo });
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain("`queue` must not hold a user or password");
    expect(refused.stderr).toContain("STORYC_QUEUE");
  }, 60_000);

  it("storyc watch --queue: every save is rendered by the farm, and only what the save changed", async () => {
    const { redis, cache, workers: [w1] } = await farm(1);
    const repo = await temps.storyRepo("suited-man");
    const watch = spawn(process.execPath, [binPath, "watch", "suited-man.yaml", "--renderer", "test", "--queue", redis.url, "--remote-cache", cache.url], { cwd: repo, env: { ...process.env, NO_COLOR: "1" }, stdio: ["ignore", "pipe", "pipe"] });
    let output = "";
    const changes = new Changes();
    for (const stream of [watch.stdout, watch.stderr]) stream.on("data", (d: Buffer) => ((output += d.toString()), changes.notify()));
    const exited = new Promise((resolve) => watch.once("exit", resolve));
    builds.push({ kill: () => watch.kill("SIGKILL"), done: exited.then(() => ({ code: 0, stdout: output, stderr: "" })) });
    const waits = () => output.split("waiting for changes").length - 1;
    try {
      await changes.until(() => waits() === 1, "the first build", 30_000, () => output);
      const first = w1!.rendered();
      expect(first).toContain("video");
      expect(output).toMatch(/: 12 rendered/);

      await editStory(join(repo, "suited-man.yaml"), "He knows exactly where he is going, and why.", "He knows exactly where he is going.");
      await changes.until(() => waits() === 2, "the build after the save", 30_000, () => output);
      expect(w1!.rendered().slice(first.length).sort()).toEqual(["scene/focused-walk/clip", "scene/focused-walk/narration", "video"]);
      expect(await readFile(join(repo, "out", "suited-man", "suited-man.txt"), "utf8")).toContain('"id": "video"');
    } finally {
      watch.kill("SIGINT");
      await exited;
    }
  }, 90_000);

  it("Redis lost in the middle fails the build in bounded time and keeps the finished nodes", async () => {
    const { control, env } = await holding(["video"]);
    const { redis, cache } = await farm(1, { env });
    const repo = await temps.storyRepo("suited-man");
    const build = startBuild(repo, ["suited-man.yaml", "--renderer", "test", "--queue", redis.url, "--remote-cache", cache.url], { STORYC_QUEUE_RECONNECT_TIMEOUT: "1" });
    await control.next();
    await redis.kill();
    const result = await build.done;
    expect(result.code).toBe(1);
    expect(result.stdout).toContain(`lost the connection to the queue at ${redis.url}`);
    const kept = await keysOf(join(repo, "suited-man.lock"));
    expect(Object.keys(kept)).toContain("title");
    expect(Object.keys(kept)).not.toContain("video");
  }, 60_000);
});

describe("storyc build --queue and storyc worker: what cannot work is said at once", () => {
  it("Redis unreachable at the start: a clear error naming the URL without its password, exit 1, no hang", async () => {
    const repo = await temps.storyRepo("suited-man");
    const port = await freePort();
    const url = `redis://:hunter2-pw@127.0.0.1:${port}`;
    const remote = await temps.make("remote");
    const started = Date.now();
    const [built, worker] = await Promise.all([
      runBin(["build", "suited-man.yaml", "--renderer", "test", "--queue", url, "--remote-cache", remote], { cwd: repo }),
      runBin(["worker", "--queue", url, "--remote-cache", remote, "--renderer", "test", "--cache-dir", await temps.make("wcache")]),
    ]);
    expect(Date.now() - started).toBeLessThan(20_000);
    for (const r of [built, worker]) {
      expect(r.code).toBe(1);
      expect(r.stderr).toContain(`error: cannot reach the queue at redis://:***@127.0.0.1:${port}`);
      expect(r.stderr + r.stdout).not.toContain("hunter2-pw");
    }
  });

  it("--queue without a remote cache, or with the paid cloud renderer, is a usage error", async () => {
    const repo = await temps.storyRepo("suited-man");
    const noCache = await runBin(["build", "suited-man.yaml", "--renderer", "test", "--queue", "redis://127.0.0.1:6379"], { cwd: repo, env: { STORYC_REMOTE_CACHE: "" } });
    expect(noCache.code).toBe(2);
    expect(noCache.stderr).toContain("error: --queue needs a remote cache");
    const paid = await runBin(["build", "suited-man.yaml", "--renderer", "vimmerse", "--queue", "redis://127.0.0.1:6379", "--remote-cache", await temps.make("rc")], { cwd: repo });
    expect(paid.code).toBe(2);
    expect(paid.stderr).toContain("the vimmerse renderer's paid calls stay with this process");
  });
});
