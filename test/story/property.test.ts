import { readFileSync } from "node:fs";
import { join } from "node:path";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { parse, stringify } from "yaml";
import { validateText } from "../../src/story/validate.js";
import type { Diagnostic } from "../../src/story/diagnostics.js";
import { repoRoot } from "../helpers/cli.js";

const examples = ["bunny/bunny.yaml", "suited-man/suited-man.yaml", "promo-vertical/promo.yaml", "lighthouse/lighthouse.yaml"].map((f) => ({
  file: join(repoRoot, "examples", f),
  text: readFileSync(join(repoRoot, "examples", f), "utf8"),
}));

function assertInside(text: string, d: Diagnostic): void {
  const lines = text.split("\n");
  for (const p of [d.start, d.end]) {
    expect(p.line).toBeGreaterThanOrEqual(1);
    expect(p.line).toBeLessThanOrEqual(lines.length);
    expect(p.column).toBeGreaterThanOrEqual(1);
    expect(p.column).toBeLessThanOrEqual(lines[p.line - 1]!.length + 1);
  }
}

const example = fc.constantFrom(...examples);

/** Edits a writer might make by accident, at any place in the file. */
const textMutation = fc.oneof(
  fc.record({ kind: fc.constant("delete-line" as const), at: fc.nat() }),
  fc.record({ kind: fc.constant("duplicate-line" as const), at: fc.nat() }),
  fc.record({ kind: fc.constant("insert" as const), at: fc.nat(), what: fc.oneof(fc.string(), fc.constantFrom(":", "- ", "**", "\t", '"', "&a", "*a", "  ", "\n", "[", "{", "#", "---\n")) }),
  fc.record({ kind: fc.constant("truncate" as const), at: fc.nat() }),
);

function applyText(text: string, m: { kind: string; at: number; what?: string }): string {
  const lines = text.split("\n");
  const line = m.at % lines.length;
  switch (m.kind) {
    case "delete-line":
      lines.splice(line, 1);
      return lines.join("\n");
    case "duplicate-line":
      lines.splice(line, 0, lines[line]!);
      return lines.join("\n");
    case "insert": {
      const at = m.at % (text.length + 1);
      return text.slice(0, at) + (m.what ?? "") + text.slice(at);
    }
    default:
      return text.slice(0, m.at % (text.length + 1));
  }
}

/** Replaces one value anywhere in the story's data with an arbitrary one. */
function setAt(data: unknown, path: number[], value: unknown): unknown {
  if (path.length === 0 || data === null || typeof data !== "object") return value;
  const keys = Object.keys(data);
  if (keys.length === 0) return value;
  const key = keys[path[0]! % keys.length]!;
  const copy: Record<string, unknown> = Array.isArray(data) ? ([...data] as unknown as Record<string, unknown>) : { ...(data as object) };
  copy[key] = setAt((data as Record<string, unknown>)[key], path.slice(1), value);
  return copy;
}

describe("validate on mutated stories (property-based)", () => {
  it("never throws, and every diagnostic lies inside the file, for text edits", async () => {
    await fc.assert(
      fc.asyncProperty(example, fc.array(textMutation, { minLength: 1, maxLength: 4 }), async (ex, mutations) => {
        const text = mutations.reduce(applyText, ex.text);
        const result = await validateText(ex.file, text);
        for (const d of result.diagnostics) assertInside(text, d);
        if (!result.valid) expect(result.diagnostics.some((d) => d.severity === "error")).toBe(true);
      }),
      { numRuns: 400 },
    );
  });

  it("never throws, and every diagnostic lies inside the file, for value changes", async () => {
    await fc.assert(
      fc.asyncProperty(example, fc.array(fc.nat(), { minLength: 1, maxLength: 5 }), fc.jsonValue({ maxDepth: 2 }), async (ex, path, value) => {
        const text = stringify(setAt(parse(ex.text), path, value));
        const result = await validateText(ex.file, text);
        for (const d of result.diagnostics) assertInside(text, d);
      }),
      { numRuns: 400 },
    );
  });
});
