import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { configSchemaPath } from "../../src/paths.js";
import { applyConfig } from "../../src/project/config.js";
import { configOptions, OPTIONS, parseOption, type OptionSpec } from "../../src/project/options.js";
import { runInProcess, STACK_TRACE } from "../helpers/cli.js";

describe("the option table parses values alone", () => {
  it.each([
    ["lockTimeout", "30", 30],
    ["lockTimeout", "2.5", 2.5],
    ["lockTimeout", "90s", 90],
    ["lockTimeout", "5m", 300],
    ["lockTimeout", "0", 0],
    ["port", "0", 0],
    ["port", "4173", 4173],
    ["webhookPort", "8080", 8080],
    ["jobs", "4", 4],
    ["renderer", "vimmerse", "vimmerse"],
    ["quality", "high", "high"],
    ["quality", "draft", "draft"],
  ] as const)("%s accepts %j", (name, raw, value) => {
    expect(parseOption(name, raw)).toEqual({ ok: true, value });
  });

  it.each([
    ["lockTimeout", "abc", "--lock-timeout", "a number of seconds"],
    ["lockTimeout", "-1", "--lock-timeout", "a number of seconds"],
    ["lockTimeout", "Infinity", "--lock-timeout", "a number of seconds"],
    ["port", "abc", "--port", "from 0 to 65535"],
    ["port", "99999", "--port", "from 0 to 65535"],
    ["port", "80.5", "--port", "from 0 to 65535"],
    ["webhookPort", "0", "--webhook-port", "from 1 to 65535"],
    ["jobs", "0", "--jobs", "from 1 to 256"],
    ["jobs", "2x", "--jobs", "from 1 to 256"],
    ["jobs", "", "--jobs", "from 1 to 256"],
    ["renderer", "bogus", "--renderer", "one of: local, vimmerse, test"],
    ["quality", "ultra", "--quality", "one of: standard, high"],
  ] as const)("%s refuses %j, naming the flag and what it accepts", (name, raw, flag, accepted) => {
    const parsed = parseOption(name, raw);
    expect(parsed.ok).toBe(false);
    if (!parsed.ok) {
      expect(parsed.message).toContain(flag);
      expect(parsed.message).toContain(accepted);
    }
  });

  it("storyc.config.yaml's schema accepts exactly what the table's flags accept", () => {
    const schema = JSON.parse(readFileSync(configSchemaPath(), "utf8")) as { properties: Record<string, { type?: string; enum?: string[]; minimum?: number; maximum?: number; examples?: string[] }> };
    const entries = configOptions();
    expect(entries.map(([, spec]) => spec.config).sort()).toEqual(["jobs", "quality", "remote_cache", "renderer"]);
    for (const [name, spec] of entries) {
      const field = schema.properties[spec.config]!;
      if (field.type === "string" && !field.enum) {
        for (const value of field.examples ?? []) expect(spec.parser!.parse(value), `${name} ${value}`).toEqual({ ok: true, value });
        expect(spec.parser!.parse("").ok).toBe(false);
      } else if (field.enum) {
        for (const value of field.enum) expect(spec.parser!.parse(value), `${name} ${value}`).toEqual({ ok: true, value });
        expect(spec.parser!.accepted).toBe(`one of: ${field.enum.join(", ")}`);
      } else {
        expect(spec.parser!.parse(String(field.minimum)).ok).toBe(true);
        expect(spec.parser!.parse(String(field.minimum! - 1)).ok).toBe(false);
        expect(spec.parser!.parse(String(field.maximum)).ok).toBe(true);
        expect(spec.parser!.parse(String(field.maximum! + 1)).ok).toBe(false);
      }
    }
  });

  it("a flag wins over the config, which wins over the default", () => {
    const project = { root: "/p", storyName: "s" };
    expect(applyConfig({}, {}, project, 3)).toMatchObject({ renderer: "local", jobs: 3 });
    expect(applyConfig({}, { renderer: "test", jobs: 2, quality: "high" }, project, 3)).toMatchObject({ renderer: "test", jobs: 2, quality: "high" });
    expect(applyConfig({ renderer: "vimmerse", jobs: 5 }, { renderer: "test", jobs: 2 }, project, 3)).toMatchObject({ renderer: "vimmerse", jobs: 5 });
  });

  it("every entry names commands and a long flag", () => {
    for (const [name, spec] of Object.entries(OPTIONS) as Array<[string, OptionSpec]>) {
      expect(spec.commands.length, name).toBeGreaterThan(0);
      expect(spec.flags, name).toMatch(/--[a-z-]+/);
    }
  });
});

describe("a bad flag value is a usage error (exit 2) naming the flag and the accepted values", () => {
  it.each([
    [["build", "--lock-timeout", "abc", "story.yaml"], "--lock-timeout", "a number of seconds"],
    [["watch", "--port", "abc", "story.yaml"], "--port", "a port number from 0 to 65535"],
    [["watch", "--port", "99999", "story.yaml"], "--port", "a port number from 0 to 65535"],
    [["build", "--renderer", "bogus", "story.yaml"], "--renderer", "one of: local, vimmerse, test"],
    [["plan", "--renderer", "bogus", "story.yaml"], "--renderer", "one of: local, vimmerse, test"],
    [["build", "--jobs", "0", "story.yaml"], "--jobs", "a whole number from 1 to 256"],
    [["watch", "--jobs", "many", "story.yaml"], "--jobs", "a whole number from 1 to 256"],
    [["build", "--quality", "ultra", "story.yaml"], "--quality", "one of: standard, high"],
    [["build", "--webhook-port", "-3", "story.yaml"], "--webhook-port", "a port number from 1 to 65535"],
    [["new", "--idea", "x", "--scenes", "two"], "--scenes", "a whole number from 1 to 50"],
    [["new", "--idea", "x", "--renderer", "test"], "--renderer", "one of: vimmerse, local"],
    [["graph", "--format", "svg", "story.yaml"], "--format", "one of: mermaid, dot"],
    [["worker", "--renderer", "vimmerse"], "--renderer", "one of: local, test"],
    [["worker", "--concurrency", "0"], "--concurrency", "a whole number from 1 to 64"],
  ])("storyc %j", async (args, flag, accepted) => {
    // The story does not exist: a usage error must come before anything reads it.
    const r = await runInProcess(args, { cwd: "/nonexistent-storyc" });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(flag);
    expect(r.stderr).toContain(`expected ${accepted}`);
    expect(r.stderr).not.toMatch(STACK_TRACE);
    expect(r.stdout).toBe("");
  });
});
