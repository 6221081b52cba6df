// A cold full build against the same story built in a fresh clone with a warm remote cache
// (nginx WebDAV on 127.0.0.1, the Bazel HTTP cache protocol), in one run, and the bytes the
// clone downloaded against the size of all the story's cached outputs.
// Goal: the clone's build takes at most 10% of the cold build. Renderer: local (BENCH_RENDERER).
import { spawn, spawnSync } from "node:child_process";
import { cpSync, mkdtempSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { createServer, createConnection } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { median, report } from "./lib.js";

const root = fileURLToPath(new URL("..", import.meta.url));
const bin = join(root, "bin/storyc.js");
const renderer = process.env.BENCH_RENDERER ?? "local";
const runs = Number(process.env.BENCH_RUNS ?? 3);
const example = process.env.BENCH_EXAMPLE ?? "suited-man";
const env = { ...process.env, NO_COLOR: "1" };
// The bundled ffmpeg 4.1 unless one is chosen: the local renderer's video node fails with Debian's 5.1 on this branch.
env.STORYC_FFMPEG ??= createRequire(import.meta.url)("@ffmpeg-installer/ffmpeg").path;

const work = mkdtempSync(join(tmpdir(), "storyc-bench-remote-"));
const git = (cwd, ...args) => {
  const r = spawnSync("git", ["-c", "user.name=bench", "-c", "user.email=bench@storyc.invalid", ...args], { cwd, encoding: "utf8" });
  if (r.status !== 0) throw new Error(`git ${args.join(" ")}: ${r.stderr}`);
};

/** Debian's nginx with WebDAV in a temp folder on a free port. */
async function startNginx() {
  const dir = join(work, "nginx");
  mkdirSync(join(dir, "data"), { recursive: true });
  const port = await new Promise((resolve) => {
    const s = createServer().listen(0, "127.0.0.1", () => {
      const { port: free } = s.address();
      s.close(() => resolve(free));
    });
  });
  writeFileSync(
    join(dir, "nginx.conf"),
    `${process.getuid?.() === 0 ? "user root root;" : ""}
worker_processes 1; pid ${dir}/nginx.pid; error_log ${dir}/error.log warn;
events { worker_connections 64; }
http { access_log off; client_body_temp_path ${dir}/body; proxy_temp_path ${dir}/proxy; fastcgi_temp_path ${dir}/fcgi;
  uwsgi_temp_path ${dir}/uwsgi; scgi_temp_path ${dir}/scgi; client_max_body_size 0;
  server { listen 127.0.0.1:${port}; root ${dir}/data;
    location / { dav_methods PUT DELETE; create_full_put_path on; dav_access user:rw group:r all:r; } } }
`,
  );
  const child = spawn("/usr/sbin/nginx", ["-p", dir, "-c", join(dir, "nginx.conf"), "-g", "daemon off;"], { stdio: "ignore" });
  const deadline = Date.now() + 10_000;
  for (;;) {
    const up = await new Promise((resolve) => {
      const c = createConnection({ port, host: "127.0.0.1" }, () => (c.destroy(), resolve(true)));
      c.once("error", () => resolve(false));
    });
    if (up) break;
    if (Date.now() > deadline || child.exitCode !== null) throw new Error("nginx did not start");
    await new Promise((r) => setTimeout(r, 50));
  }
  const exited = new Promise((resolve) => child.once("exit", resolve));
  return { url: `http://127.0.0.1:${port}`, stop: () => (child.kill("SIGTERM"), exited) };
}

/** One `storyc build --json` in a folder: its wall time and its summary. */
function timedBuild(cwd, remote) {
  const start = process.hrtime.bigint();
  const r = spawnSync(process.execPath, [bin, "build", `${example}.yaml`, "--renderer", renderer, "--json", "--remote-cache", remote], { cwd, env, encoding: "utf8", maxBuffer: 64 << 20 });
  const ms = Number(process.hrtime.bigint() - start) / 1e6;
  if (r.status !== 0) throw new Error(`build failed in ${cwd}: ${r.stderr}${r.stdout.slice(-2000)}`);
  const finished = r.stdout.trim().split("\n").map((l) => JSON.parse(l)).find((e) => e.type === "finished");
  return { ms, summary: finished.summary };
}

const nginx = await startNginx();
try {
  const cold = [];
  const warm = [];
  let downloaded = 0;
  let total = 0;
  for (let i = 0; i < runs; i++) {
    // Each run has its own cache prefix: the cold build really is cold.
    const remote = `${nginx.url}/run-${i}`;
    const repo = join(work, `repo-${i}`);
    cpSync(join(root, "examples", example), repo, { recursive: true });
    writeFileSync(join(repo, ".gitignore"), ".storyc/\nout/\n");
    git(repo, "init", "-q", ".");
    const first = timedBuild(repo, remote);
    if (first.summary.rendered.length === 0) throw new Error("the cold build rendered nothing");
    cold.push(first.ms);
    git(repo, "add", "-A");
    git(repo, "commit", "-q", "-m", "build");
    const clone = join(work, `clone-${i}`);
    git(work, "clone", "-q", repo, clone);
    const second = timedBuild(clone, remote);
    if (second.summary.rendered.length !== 0) throw new Error(`the clone rendered ${second.summary.rendered.length} nodes`);
    warm.push(second.ms);
    downloaded = second.summary.remote.downloadedBytes;
    const lock = JSON.parse(readFileSync(join(clone, `${example}.lock`), "utf8"));
    total = Object.values(lock.nodes).flatMap((n) => n.outputs).reduce((sum, o) => sum + o.size, 0);
  }
  const c = median(cold);
  const w = median(warm);
  const ratio = w / c;
  report(`remote cache: ${example} (${renderer} renderer), cold build vs fresh clone with a warm cache, median of ${runs}`, [
    ["cold full build", `${c.toFixed(0)} ms`],
    ["fresh clone, warm remote cache", `${w.toFixed(0)} ms`],
    ["ratio clone / cold (goal <= 10%)", `${(ratio * 100).toFixed(1)}% ${ratio <= 0.1 ? "ok" : "OVER GOAL"}`],
    ["bytes downloaded by the clone", `${downloaded} B`],
    ["all the story's cached outputs", `${total} B`],
    ["downloaded / all outputs", `${((downloaded / total) * 100).toFixed(1)}%`],
  ]);
} finally {
  await nginx.stop();
  rmSync(work, { recursive: true, force: true });
}
