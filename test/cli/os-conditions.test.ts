import { existsSync } from "node:fs";
import { writeFile } from "node:fs/promises";
import { createServer, type Server } from "node:net";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { runBin, STACK_TRACE, type CliResult } from "../helpers/cli.js";
import { copyExample } from "../helpers/story-dir.js";
import { tempDir } from "../helpers/temp.js";

const expectClearError = (r: CliResult & { timedOut: boolean }, path: string) => {
  expect(r.timedOut).toBe(false);
  expect(r.code).toBe(1);
  expect(r.stderr).toContain(path);
  expect(r.stderr).toContain("hint:");
  expect(r.stderr).not.toContain("unexpectedly");
  expect(r.stderr).not.toMatch(STACK_TRACE);
};

describe("an OS condition is a message with the path and a way out, never a hang", () => {
  let busy: Server | undefined;
  afterEach(async () => {
    await new Promise<void>((resolve) => (busy ? busy.close(() => resolve()) : resolve()));
    busy = undefined;
  });

  it("watch --port N on a busy port names the port and how to choose another", async () => {
    busy = createServer();
    const port = await new Promise<number>((resolve) => busy!.listen(0, "127.0.0.1", () => resolve((busy!.address() as { port: number }).port)));
    const { dir } = await copyExample("suited-man", "suited-man.yaml");
    const r = await runBin(["watch", "--renderer", "test", "--port", String(port), "suited-man.yaml"], { cwd: dir, timeoutMs: 20_000 });
    expectClearError(r, `port ${port}`);
    expect(r.stderr).toContain("--port");
  });

  it("build -o an existing file says a file is in the way, before rendering anything", async () => {
    const { dir } = await copyExample("suited-man", "suited-man.yaml");
    await writeFile(join(dir, "video.txt"), "not a folder");
    const r = await runBin(["build", "--renderer", "test", "-o", "video.txt", "suited-man.yaml"], { cwd: dir, timeoutMs: 30_000 });
    expectClearError(r, join(dir, "video.txt"));
    expect(r.stderr).toContain("a file is in the way");
    expect(existsSync(join(dir, "suited-man.lock"))).toBe(false);
  });

  it("build -o /proc/nope ends at once, and leaves the story's lock free", async () => {
    const { dir } = await copyExample("suited-man", "suited-man.yaml");
    const r = await runBin(["build", "--renderer", "test", "-o", "/proc/nope", "suited-man.yaml"], { cwd: dir, timeoutMs: 20_000 });
    expectClearError(r, "/proc/nope");
    const again = await runBin(["build", "--renderer", "test", "suited-man.yaml"], { cwd: dir, timeoutMs: 30_000 });
    expect(again.code).toBe(0);
  });

  it("init /proc/x ends at once with the path", async () => {
    const r = await runBin(["init", "/proc/storyc-x"], { timeoutMs: 20_000 });
    expectClearError(r, "/proc/storyc-x");
  });

  it("init where the system refuses to write says permission denied", async () => {
    const r = await runBin(["init", "/sys/storyc-x"], { timeoutMs: 20_000 });
    expectClearError(r, "/sys/storyc-x");
    expect(r.stderr).toContain("permission denied");
  });

  it("new -o into a folder that is a file names the path", async () => {
    const dir = tempDir("new-");
    await writeFile(join(dir, "drafts"), "a file");
    const r = await runBin(["new", "--renderer", "local", "--idea", "A fox", "-o", "drafts/fox.yaml"], { cwd: dir, timeoutMs: 20_000 });
    expectClearError(r, join(dir, "drafts"));
  });
});
