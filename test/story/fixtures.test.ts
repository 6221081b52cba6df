import { readdirSync, readFileSync } from "node:fs";
import { join, relative } from "node:path";
import { describe, expect, it } from "vitest";
import { validateFile } from "../../src/story/validate.js";
import { repoRoot, runBin, STACK_TRACE } from "../helpers/cli.js";

const dir = join(repoRoot, "test/fixtures/invalid");

/** Each invalid fixture ends with `# expect: <code> <line>:<column>`. */
const fixtures = readdirSync(dir)
  .filter((f) => f.endsWith(".yaml"))
  .sort()
  .map((name) => {
    const text = readFileSync(join(dir, name), "utf8");
    const m = /# expect: ([a-z-]+) (\d+):(\d+)\s*$/.exec(text);
    if (!m) throw new Error(`${name} has no "# expect:" line`);
    return { name, path: join(dir, name), code: m[1]!, line: Number(m[2]), column: Number(m[3]) };
  });

describe("invalid story corpus", () => {
  it("has at least 40 stories", () => {
    expect(fixtures.length).toBeGreaterThanOrEqual(40);
  });

  it.each(fixtures)("$name: $code at $line:$column", async ({ path, code, line, column }) => {
    const result = await validateFile(path);
    expect(result.valid).toBe(false);
    const errors = result.diagnostics.filter((d) => d.severity === "error");
    expect(errors.map((d) => `${d.code} ${d.start.line}:${d.start.column}`)).toContain(`${code} ${line}:${column}`);
    for (const d of result.diagnostics) expect(d.message.length).toBeGreaterThan(10);
  });

  it("the CLI reports every fixture at its position, with no stack trace", async () => {
    const files = fixtures.map((f) => relative(repoRoot, f.path));
    const { code, stdout, stderr } = await runBin(["validate", ...files]);
    expect(code).toBe(1);
    expect(stderr).toBe("");
    expect(stdout).not.toMatch(STACK_TRACE);
    for (const f of fixtures) {
      expect(stdout).toContain(`${relative(repoRoot, f.path)}:${f.line}:${f.column}: error[${f.code}]:`);
    }
    expect(stdout).toContain(`✗ ${fixtures.length} of ${fixtures.length} stories invalid`);
  });
});
