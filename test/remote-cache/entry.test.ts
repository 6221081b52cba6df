import { createServer, type Socket } from "node:net";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { build, type BuildEvent } from "../../src/engine/build.js";
import { TestRenderer } from "../../src/render/test-renderer.js";
import { decodeEntry, encodeEntry } from "../../src/remote-cache/entry.js";
import { redactUrl } from "../../src/remote-cache/redact.js";
import { TempDirs } from "../helpers/story-repo.js";

const temps = new TempDirs();
afterEach(() => temps.removeAll());

const KEY = "a".repeat(64);
const entry = { outputs: [{ name: "video.mp4", sha256: "b".repeat(64), size: 10 }], meta: { seconds: 5 }, remote: { jobId: "j1" } };

describe("action entries", () => {
  it("round-trip, signed or not", () => {
    expect(decodeEntry(KEY, encodeEntry(KEY, entry, undefined), undefined)).toEqual({ ok: true, entry });
    expect(decodeEntry(KEY, encodeEntry(KEY, entry, "k"), "k")).toEqual({ ok: true, entry });
  });

  it("with a key, refuse what is unsigned, signed with another key, altered, or moved to another node key", () => {
    expect(decodeEntry(KEY, encodeEntry(KEY, entry, undefined), "k")).toEqual({ ok: false, reason: "unsigned" });
    expect(decodeEntry(KEY, encodeEntry(KEY, entry, "other"), "k")).toEqual({ ok: false, reason: "bad-signature" });
    const altered = JSON.parse(encodeEntry(KEY, entry, "k").toString()) as { outputs: Array<{ sha256: string }> };
    altered.outputs[0]!.sha256 = "c".repeat(64);
    expect(decodeEntry(KEY, Buffer.from(JSON.stringify(altered)), "k")).toEqual({ ok: false, reason: "bad-signature" });
    expect(decodeEntry("d".repeat(64), encodeEntry(KEY, entry, "k"), "k")).toEqual({ ok: false, reason: "malformed" });
  });

  it("refuse output names that would leave the output folder", () => {
    for (const name of ["../../etc/passwd", "..", "a/b.mp4"]) {
      const bad = encodeEntry(KEY, { ...entry, outputs: [{ name, sha256: "b".repeat(64), size: 1 }] }, undefined);
      expect(decodeEntry(KEY, bad, undefined)).toEqual({ ok: false, reason: "malformed" });
    }
  });

  it("URLs are printed without user, password or query", () => {
    expect(redactUrl("https://bob:hunter2@cache.example.com/storyc/?sig=abc")).toBe("https://***@cache.example.com/storyc?***");
    expect(redactUrl("s3://bucket/prefix")).toBe("s3://bucket/prefix");
    expect(redactUrl("/mnt/share/cache")).toBe("/mnt/share/cache");
  });
});

describe("a cache that never answers", () => {
  it("costs one warning after the timeout, and the build finishes locally", async () => {
    // Accepts connections and never answers: the slowest cache there is.
    const sockets = new Set<Socket>();
    const server = createServer((socket) => sockets.add(socket));
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const port = (server.address() as { port: number }).port;
    try {
      const repo = await temps.storyRepo("promo-vertical");
      const events: BuildEvent[] = [];
      const renderer = new TestRenderer();
      const result = await build(join(repo, "promo.yaml"), {
        renderer,
        remoteCache: { url: `http://127.0.0.1:${port}` },
        env: { STORYC_REMOTE_CACHE_TIMEOUT: "0.3" },
        onEvent: (e) => events.push(e),
      });
      expect(result.ok).toBe(true);
      expect(renderer.calls).toHaveLength(29);
      const warnings = events.filter((e) => e.type === "remote-cache-warning");
      expect(warnings).toHaveLength(1);
      expect(warnings[0]).toMatchObject({ reason: "unavailable" });
    } finally {
      for (const s of sockets) s.destroy();
      await new Promise((resolve) => server.close(resolve));
    }
  });
});
