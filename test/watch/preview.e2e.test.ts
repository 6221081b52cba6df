/// <reference lib="dom" />
import { spawn, type ChildProcess } from "node:child_process";
import { existsSync } from "node:fs";
import { request } from "node:http";
import { readFile, writeFile } from "node:fs/promises";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { chromium, type Browser, type Page } from "playwright-core";
import { binPath } from "../helpers/cli.js";
import { copyExample } from "../helpers/story-dir.js";

const CHROMIUM = process.env.STORYC_CHROMIUM ?? "/usr/bin/chromium";
const available = existsSync(CHROMIUM);
// CI installs Chromium and requires this test; elsewhere it says why it did not run.
if (!available && process.env.STORYC_REQUIRE_BROWSER) throw new Error(`Chromium is required but not found at ${CHROMIUM}: apt-get install chromium`);
if (!available) console.warn(`preview e2e test not run: no Chromium at ${CHROMIUM} (apt-get install chromium, or set STORYC_CHROMIUM)`);

describe.runIf(available)("storyc watch, in a real browser", () => {
  let watch: ChildProcess;
  let browser: Browser;
  let page: Page;
  let story: string;
  let output = "";

  beforeAll(async () => {
    const copy = await copyExample("suited-man", "suited-man.yaml");
    story = copy.story;
    // The page is under test here, not ffmpeg's versions: the bundled ffmpeg the renderer falls back to makes the video.
    const ffmpeg = process.env.STORYC_FFMPEG ?? (await import("@ffmpeg-installer/ffmpeg")).default.path;
    watch = spawn(process.execPath, [binPath, "watch", "suited-man.yaml", "--jobs", "2"], { cwd: copy.dir, env: { ...process.env, NO_COLOR: "1", STORYC_FFMPEG: ffmpeg } });
    watch.stdout!.on("data", (d) => (output += d));
    watch.stderr!.on("data", (d) => (output += d));
    const url = await new Promise<string>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no preview URL in: ${output}`)), 20_000);
      watch.stdout!.on("data", () => {
        const m = /Preview: (http:\/\/127\.0\.0\.1:\d+\/)/.exec(output);
        if (m) {
          clearTimeout(timer);
          resolve(m[1]!);
        }
      });
    });
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-quic", "--no-first-run", "--disable-component-update", "--disable-sync"],
    });
    page = await browser.newPage();
    await page.goto(url);
    // A marker that a reload would wipe: the page must update itself.
    await page.evaluate(() => ((window as unknown as { __sameLoad: boolean }).__sameLoad = true));
  }, 60_000);

  afterAll(async () => {
    await browser?.close();
    if (watch && watch.exitCode === null) {
      const exited = new Promise((resolve) => watch.once("exit", resolve));
      watch.kill("SIGINT");
      const timer = setTimeout(() => watch.kill("SIGKILL"), 10_000);
      await exited;
      clearTimeout(timer);
    }
  });

  const sameLoad = () => page.evaluate(() => (window as unknown as { __sameLoad?: boolean }).__sameLoad === true);

  it("shows the video, each scene with its state and narration", async () => {
    await page.waitForSelector('#status[data-status="ready"]', { timeout: 60_000 });
    expect(await page.locator("#video").getAttribute("data-version")).toMatch(/^[0-9a-f]{12}$/);
    expect(await page.locator(".scene").count()).toBe(2);
    expect(await page.locator('.scene[data-index="1"] .narration').textContent()).toBe("He knows exactly where he is going, and why.");
    expect(await page.locator('.scene[data-index="0"]').getAttribute("data-state")).toBe("fresh");
    // The video the page points at is served, and plays in Chromium.
    await page.waitForFunction(() => (document.getElementById("video") as HTMLVideoElement).readyState >= 1, null, { timeout: 20_000 });
    expect(await page.evaluate(() => (document.getElementById("video") as HTMLVideoElement).duration)).toBeGreaterThan(5);
  }, 90_000);

  it("plays from a scene when its card is clicked, with the poster and the subtitle track", async () => {
    await page.waitForSelector('#status[data-status="ready"]', { timeout: 60_000 });
    await page.waitForFunction(() => (document.getElementById("video") as HTMLVideoElement).readyState >= 1, null, { timeout: 20_000 });
    const start = Number(await page.locator('.scene[data-index="1"]').getAttribute("data-start"));
    // The second scene starts after the title card and the first scene.
    expect(start).toBeGreaterThan(3);
    expect(await page.evaluate(() => (document.getElementById("video") as HTMLVideoElement).currentTime)).toBeLessThan(start);
    await page.locator('.scene[data-index="1"]').click();
    await page.waitForFunction((s) => Math.abs((document.getElementById("video") as HTMLVideoElement).currentTime - s) < 1, start, { timeout: 10_000 });
    // The subtitle track is the video's .vtt, served as WebVTT.
    expect(await page.evaluate(() => (document.getElementById("video") as HTMLVideoElement).textTracks.length)).toBe(1);
    const track = await page.locator("#video track").getAttribute("src");
    const vtt = await page.request.get(new URL(track!, page.url()).href);
    expect(vtt.headers()["content-type"]).toContain("text/vtt");
    expect(await vtt.text()).toMatch(/^WEBVTT/);
    expect(await vtt.text()).toContain("He knows exactly where he is going");
    const poster = await page.evaluate(() => (document.getElementById("video") as HTMLVideoElement).poster);
    const image = await page.request.get(poster);
    expect(image.status()).toBe(200);
    expect(image.headers()["content-type"]).toBe("image/jpeg");
  }, 90_000);

  it("puts the video and the scene list side by side on a wide screen, and code frames do not wrap", async () => {
    await page.setViewportSize({ width: 1400, height: 900 });
    const video = (await page.locator("#video").boundingBox())!;
    const scenes = (await page.locator("#scenes").boundingBox())!;
    expect(scenes.x).toBeGreaterThanOrEqual(video.x + video.width);
    expect(scenes.y).toBeLessThan(video.y + video.height);
    expect(await page.evaluate(() => getComputedStyle(document.getElementById("diagnostics")!).whiteSpace)).toBe("pre");
    await page.setViewportSize({ width: 700, height: 900 });
    const narrowVideo = (await page.locator("#video").boundingBox())!;
    const narrowScenes = (await page.locator("#scenes").boundingBox())!;
    expect(narrowScenes.y).toBeGreaterThanOrEqual(narrowVideo.y + narrowVideo.height);
  });

  it("answers only to its own address (a DNS-rebinding page gets 421), and has a favicon", async () => {
    const url = new URL(page.url());
    const get = (host: string, path = "/") =>
      new Promise<{ status: number; type: string }>((resolve, reject) => {
        const req = request({ host: url.hostname, port: url.port, path, headers: { host } }, (res) => {
          res.resume();
          resolve({ status: res.statusCode!, type: String(res.headers["content-type"]) });
        });
        req.on("error", reject);
        req.setTimeout(10_000, () => req.destroy(new Error("no answer in 10 s")));
        req.end();
      });
    expect((await get(url.host)).status).toBe(200);
    expect((await get(`localhost:${url.port}`)).status).toBe(200);
    expect((await get(`evil.example:${url.port}`)).status).toBe(421);
    expect((await get(`evil.example:${url.port}`, "/media/video")).status).toBe(421);
    expect(await get(url.host, "/favicon.ico")).toEqual({ status: 200, type: "image/svg+xml" });
    expect(await page.locator('link[rel="icon"]').getAttribute("href")).toBe("/favicon.svg");
  });

  it("after a narration is edited on disk, shows the new video and the new text without reloading", async () => {
    const before = await page.locator("#video").getAttribute("data-version");
    await writeFile(story, (await readFile(story, "utf8")).replace("He knows exactly where he is going, and why.", "He knows the way, and he walks it."));
    await page.waitForFunction(() => document.querySelector('.scene[data-index="1"] .narration')?.textContent === "He knows the way, and he walks it.", null, { timeout: 60_000 });
    await page.waitForFunction((v) => document.getElementById("video")?.dataset.version !== v && document.getElementById("status")?.dataset.status === "ready", before, { timeout: 60_000 });
    expect(await sameLoad()).toBe(true);
  }, 90_000);

  it("shows the diagnostics of an invalid save, and clears them when it is fixed", async () => {
    const good = await readFile(story, "utf8");
    await writeFile(story, good.replace("His **briefcase** swings", "His **brefcase** swings"));
    await page.waitForSelector('#status[data-status="invalid"]', { timeout: 30_000 });
    const diagnostics = await page.locator("#diagnostics").textContent();
    expect(diagnostics).toMatch(/suited-man\.yaml:\d+:\d+: error\[unknown-reference\]: \*\*brefcase\*\* names no character, environment or object/);
    expect(diagnostics).toContain("did you mean **briefcase**?");
    await writeFile(story, good);
    await page.waitForSelector('#status[data-status="ready"]', { timeout: 60_000 });
    expect(await page.locator("#diagnostics").textContent()).toBe("");
    expect(await sameLoad()).toBe(true);
  }, 90_000);

  it("serves nothing but this story's outputs", async () => {
    const base = new URL(page.url());
    for (const path of ["/media/../../../etc/passwd", "/media/video/../../etc/hosts", "/etc/passwd", "/media/scene/9"]) {
      const res = await fetch(new URL(path, base), { redirect: "manual" });
      expect(res.status, path).toBe(404);
    }
  });
});
