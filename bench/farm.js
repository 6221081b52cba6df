// Makespan of a 60-scene story built through the render farm with 1, 2 and 4 `storyc worker`
// processes, in one run, and the scaling efficiency T1 / (n * Tn). Goal: >= 80% at 4 workers.
// The test renderer takes a fixed time per node (BENCH_NODE_MS, default 250 ms) and only sleeps,
// so the figure measures the farm (queue, remote cache, scheduling), not this machine's 2 cores.
// Redis (Debian's redis-server) and nginx (WebDAV, the team cache) run on 127.0.0.1; each worker
// count gets a fresh Redis and cache prefix, so nothing is reused between them.
import { spawn } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { createConnection, createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { report } from "./lib.js";
import { writeGeneratedStory } from "./story-generator.js";

const root = fileURLToPath(new URL("..", import.meta.url));
const bin = join(root, "bin/storyc.js");
const nodeMs = Number(process.env.BENCH_NODE_MS ?? 250);
const scenes = Number(process.env.BENCH_SCENES ?? 60);
const counts = (process.env.BENCH_WORKERS ?? "1,2,4").split(",").map(Number);
const env = { ...process.env, NO_COLOR: "1", STORYC_TEST_RENDER_MS: String(nodeMs) };
const work = mkdtempSync(join(tmpdir(), "storyc-bench-farm-"));
const children = new Set();

const freePort = () =>
  new Promise((resolve) => {
    const s = createServer().listen(0, "127.0.0.1", () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });

async function waitForPort(port, what, child) {
  const deadline = Date.now() + 10_000;
  for (;;) {
    const up = await new Promise((resolve) => {
      const c = createConnection({ port, host: "127.0.0.1" }, () => (c.destroy(), resolve(true)));
      c.once("error", () => resolve(false));
    });
    if (up) return;
    if (Date.now() > deadline || child.exitCode !== null) throw new Error(`${what} did not start`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** A child process that is killed at the end whatever happens; `exited` resolves with its exit code. */
function start(command, args, options) {
  const child = spawn(command, args, options);
  children.add(child);
  const exited = new Promise((resolve) => child.once("exit", (code) => (children.delete(child), resolve(code))));
  return { child, exited };
}

async function startNginx() {
  const dir = join(work, "nginx");
  mkdirSync(join(dir, "data"), { recursive: true });
  const port = await freePort();
  writeFileSync(
    join(dir, "nginx.conf"),
    `${process.getuid?.() === 0 ? "user root root;" : ""}
worker_processes 1; pid ${dir}/nginx.pid; error_log ${dir}/error.log warn;
events { worker_connections 256; }
http { access_log off; client_body_temp_path ${dir}/body; proxy_temp_path ${dir}/proxy; fastcgi_temp_path ${dir}/fcgi;
  uwsgi_temp_path ${dir}/uwsgi; scgi_temp_path ${dir}/scgi; client_max_body_size 0;
  server { listen 127.0.0.1:${port}; root ${dir}/data;
    location / { dav_methods PUT DELETE; create_full_put_path on; dav_access user:rw group:r all:r; } } }
`,
  );
  const p = start("/usr/sbin/nginx", ["-p", dir, "-c", join(dir, "nginx.conf"), "-g", "daemon off;"], { stdio: "ignore" });
  await waitForPort(port, "nginx", p.child);
  return `http://127.0.0.1:${port}`;
}

async function startRedis(label) {
  const dir = join(work, `redis-${label}`);
  mkdirSync(dir);
  const port = await freePort();
  const p = start("/usr/bin/redis-server", ["--port", String(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--dir", dir], { stdio: "ignore" });
  await waitForPort(port, "redis-server", p.child);
  return { url: `redis://127.0.0.1:${port}`, stop: () => (p.child.kill("SIGTERM"), p.exited) };
}

async function startWorker(queue, remote, name) {
  const p = start(process.execPath, [bin, "worker", "--queue", queue, "--remote-cache", remote, "--renderer", "test", "--name", name, "--cache-dir", join(work, `cache-${name}`)], { env, stdio: ["ignore", "pipe", "inherit"] });
  let out = "";
  p.child.stdout.on("data", (d) => (out += d));
  const deadline = Date.now() + 20_000;
  while (!out.includes("waiting for nodes")) {
    if (Date.now() > deadline || p.child.exitCode !== null) throw new Error(`worker ${name} did not start: ${out}`);
    await new Promise((r) => setTimeout(r, 20));
  }
  return { rendered: () => (out.match(/^rendered /gm) ?? []).length, stop: () => (p.child.kill("SIGTERM"), p.exited) };
}

/** One farm build of the story with `n` workers: its wall time, and how many nodes each worker made. */
async function farmBuild(n, cacheUrl) {
  const redis = await startRedis(n);
  const remote = `${cacheUrl}/workers-${n}`;
  const workers = await Promise.all(Array.from({ length: n }, (_, i) => startWorker(redis.url, remote, `n${n}-w${i + 1}`)));
  const repo = join(work, `repo-${n}`);
  writeGeneratedStory(repo, scenes, "farm");
  const startedAt = process.hrtime.bigint();
  const build = start(process.execPath, [bin, "build", "farm.yaml", "--renderer", "test", "--queue", redis.url, "--remote-cache", remote, "--json"], { cwd: repo, env, stdio: ["ignore", "pipe", "inherit"] });
  let out = "";
  build.child.stdout.on("data", (d) => (out += d));
  const code = await build.exited;
  const ms = Number(process.hrtime.bigint() - startedAt) / 1e6;
  if (code !== 0) throw new Error(`the farm build with ${n} workers failed (${code}): ${out.slice(-2000)}`);
  const summary = out.trim().split("\n").map((l) => JSON.parse(l)).find((e) => e.type === "finished").summary;
  const perWorker = workers.map((w) => w.rendered());
  await Promise.all(workers.map((w) => w.stop()));
  await redis.stop();
  return { ms, nodes: summary.rendered.length, perWorker };
}

try {
  const cacheUrl = await startNginx();
  const results = new Map();
  for (const n of counts) results.set(n, await farmBuild(n, cacheUrl));
  const t1 = results.get(1)?.ms;
  const rows = [];
  for (const [n, r] of results) {
    const efficiency = t1 ? t1 / (n * r.ms) : NaN;
    const goal = n === 4 ? (efficiency >= 0.8 ? " ok" : " UNDER GOAL") : "";
    rows.push([`${n} worker${n > 1 ? "s" : ""}: makespan`, `${(r.ms / 1000).toFixed(2)} s (${r.nodes} nodes; per worker ${r.perWorker.join("/")})`]);
    if (n > 1 && t1) rows.push([`${n} workers: speed-up, efficiency T1/(n*Tn)`, `${(t1 / r.ms).toFixed(2)}x, ${(efficiency * 100).toFixed(0)}%${goal}`]);
  }
  const nodes = results.get(counts[0]).nodes;
  rows.push(["ideal 1 worker (nodes x node time)", `${((nodes * nodeMs) / 1000).toFixed(2)} s`]);
  report(`render farm: ${scenes}-scene story, test renderer at ${nodeMs} ms per node, 1 build + n workers on Redis, nginx team cache`, rows);
} finally {
  // SIGTERM first: nginx's master stops its workers only when asked (SIGKILL would orphan them).
  const left = [...children].map((child) => new Promise((resolve) => (child.exitCode !== null ? resolve() : (child.once("exit", resolve), child.kill("SIGTERM")))));
  const timer = setTimeout(() => children.forEach((child) => child.kill("SIGKILL")), 10_000);
  await Promise.all(left);
  clearTimeout(timer);
  rmSync(work, { recursive: true, force: true });
}
