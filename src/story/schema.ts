import { readFileSync } from "node:fs";
import type { ErrorObject } from "ajv";
import { closest, distance } from "fastest-levenshtein";
import validateAgainstSchema from "./schema-validator.js";
import type { Diagnostic } from "./diagnostics.js";
import { parsePointer, type StorySource } from "./source.js";
import { schemaPath as storySchemaPath } from "../paths.js";

/** Checks parsed story data against schemas/story.schema.json (precompiled at build time). */
export function checkSchema(source: StorySource, data: unknown): Diagnostic[] {
  if (validateAgainstSchema(data)) return [];
  return mapSchemaErrors(source, data, validateAgainstSchema.errors ?? []);
}

function mapSchemaErrors(source: StorySource, data: unknown, errors: readonly ErrorObject[]): Diagnostic[] {
  // An anyOf failure says the useful thing once; the failures of its branches only repeat it.
  // (Standalone schema paths are relative to their $ref, so branches are recognised by the data they were about.)
  const anyOfAt = errors.filter((e) => e.keyword === "anyOf").map((e) => e.instancePath);
  const kept = errors.filter((e) => e.keyword === "anyOf" || !anyOfAt.some((p) => e.instancePath === p || e.instancePath.startsWith(p + "/")));
  const seen = new Set<string>();
  const out: Diagnostic[] = [];
  for (const error of kept) {
    const d = describe(source, data, error);
    const id = `${d.code} ${d.pointer} ${d.message}`;
    if (seen.has(id)) continue;
    seen.add(id);
    out.push(d);
  }
  return out;
}

function describe(source: StorySource, data: unknown, e: ErrorObject): Diagnostic {
  const at = e.instancePath;
  const where = label(at);
  const value = valueAt(data, at);
  switch (e.keyword) {
    case "required": {
      const missing = String((e.params as { missingProperty: string }).missingProperty);
      const about = fieldDescription(at, missing);
      const hint =
        at === "" && missing === "storyc"
          ? "add `storyc: 1` as the first line, to say which format the story is written in"
          : about && `add \`${missing}:\` (${lowerFirst(about)})`;
      return source.diagnostic("error", "missing-field", source.range(at, "key"), at, `${where} is missing \`${missing}\``, hint);
    }
    case "additionalProperties": {
      const extra = String((e.params as { additionalProperty: string }).additionalProperty);
      const pointer = `${at}/${extra}`;
      const allowed = allowedFields(at);
      const guess = suggest(extra, allowed);
      return source.diagnostic(
        "error",
        "unknown-field",
        source.range(pointer, "key"),
        pointer,
        `${where} has no field \`${extra}\``,
        guess ? `did you mean \`${guess}\`?` : allowed.length ? `the fields here are: ${allowed.join(", ")}` : undefined,
      );
    }
    case "const":
      if (at === "/storyc") {
        return source.diagnostic(
          "error",
          "unsupported-version",
          source.range(at),
          at,
          `this story is written for format ${JSON.stringify(value)}; this storyc reads format 1`,
          typeof value === "number" && value > 1 ? "upgrade storyc" : "write `storyc: 1`",
        );
      }
      return source.diagnostic("error", "invalid-value", source.range(at), at, `${where} must be ${JSON.stringify(e.params.allowedValue)}`);
    case "type": {
      const expected = String((e.params as { type: string }).type);
      return source.diagnostic(
        "error",
        "wrong-type",
        source.range(at),
        at,
        `${where} must be ${article(expected)}, not ${describeValue(value)}`,
        expected === "string" && (typeof value === "object" || typeof value === "number" || typeof value === "boolean")
          ? "put the text in quotes"
          : undefined,
      );
    }
    case "enum": {
      const allowed = ((e.params as { allowedValues: unknown[] }).allowedValues ?? []).map(String);
      const guess = typeof value === "string" ? suggest(value, allowed) : undefined;
      return source.diagnostic(
        "error",
        "invalid-value",
        source.range(at),
        at,
        `${where} is ${JSON.stringify(value)}, which is not one of ${allowed.join(", ")}`,
        guess ? `did you mean ${JSON.stringify(guess)}?` : undefined,
      );
    }
    case "minimum":
    case "maximum":
    case "exclusiveMinimum":
    case "exclusiveMaximum": {
      const { comparison, limit } = e.params as { comparison: string; limit: number };
      return source.diagnostic("error", "out-of-range", source.range(at), at, `${where} is ${String(value)}; it must be ${comparison} ${limit}`);
    }
    case "minLength":
    case "minItems":
      return source.diagnostic(
        "error",
        "empty-value",
        source.range(at),
        at,
        `${where} is empty`,
        e.keyword === "minItems" ? "add at least one entry, or remove the field" : "write something, or remove the field",
      );
    case "pattern":
      return source.diagnostic("error", "invalid-value", source.range(at), at, patternMessage(at, where, value), patternHint(at));
    case "anyOf":
      if (at === "") {
        return source.diagnostic(
          "error",
          "story-without-content",
          source.range("", "value"),
          "",
          "the story has neither an `idea` nor `scenes`",
          "add `idea:` (a sentence to draft the story from) or `scenes:` (the shots to render)",
        );
      }
      return source.diagnostic("error", "wrong-type", source.range(at), at, `${where} must be a file path or URL, or null; not ${describeValue(value)}`);
    default:
      return source.diagnostic("error", "invalid-value", source.range(at), at, `${where} ${e.message ?? "is not valid"}`);
  }
}

function patternMessage(at: string, where: string, value: unknown): string {
  if (/\/name$/.test(at)) return `${where} is ${JSON.stringify(value)}; a name may not contain \`*\` or a line break`;
  if (/\/id$/.test(at)) return `${where} is ${JSON.stringify(value)}; an id is letters, digits, \`-\` and \`_\`, starting with a letter or digit`;
  if (/\/language$/.test(at)) return `${where} is ${JSON.stringify(value)}, which is not a language tag`;
  return `${where} is ${JSON.stringify(value)}, which is not in the expected form`;
}

function patternHint(at: string): string | undefined {
  if (/\/language$/.test(at)) return 'use a BCP 47 tag such as "en", "en-US" or "fr"';
  if (/\/id$/.test(at)) return 'for example "opening-shot"';
  return undefined;
}

/** "/scenes/2/narrator" -> "scenes[2].narrator"; "" -> "the story". */
export function label(pointer: string): string {
  const parts = parsePointer(pointer);
  if (parts.length === 0) return "the story";
  let out = "";
  for (const p of parts) out += /^\d+$/.test(p) ? `[${p}]` : out ? `.${p}` : p;
  return `\`${out}\``;
}

function valueAt(data: unknown, pointer: string): unknown {
  let node: unknown = data;
  for (const p of parsePointer(pointer)) {
    if (node === null || typeof node !== "object") return undefined;
    node = (node as Record<string, unknown>)[p];
  }
  return node;
}

function describeValue(value: unknown): string {
  if (value === null || value === undefined) return "empty";
  if (Array.isArray(value)) return "a list";
  if (typeof value === "object") return "a mapping";
  if (typeof value === "string") return `the text ${JSON.stringify(value.length > 40 ? value.slice(0, 40) + "…" : value)}`;
  return `${typeof value} ${JSON.stringify(value)}`;
}

function article(type: string): string {
  const names: Record<string, string> = { object: "a mapping", array: "a list", string: "text", number: "a number", integer: "a whole number", boolean: "true or false", null: "null" };
  return names[type] ?? type;
}

function lowerFirst(s: string): string {
  return s.charAt(0).toLowerCase() + s.slice(1).replace(/\.$/, "");
}

export function suggest(word: string, candidates: readonly string[]): string | undefined {
  if (candidates.length === 0) return undefined;
  const lower = word.toLowerCase();
  const exact = candidates.find((c) => c.toLowerCase() === lower);
  if (exact) return exact;
  const best = closest(lower, candidates.map((c) => c.toLowerCase()));
  const match = candidates.find((c) => c.toLowerCase() === best);
  if (match === undefined) return undefined;
  return distance(lower, best) <= Math.max(2, Math.floor(best.length / 3)) ? match : undefined;
}

// The JSON schema itself is read only when a message needs it (field lists and descriptions).
let schemaJson: Record<string, unknown> | null = null;
function storySchema(): Record<string, unknown> {
  schemaJson ??= JSON.parse(readFileSync(storySchemaPath(), "utf8")) as Record<string, unknown>;
  return schemaJson;
}

type SchemaNode = { $ref?: string; properties?: Record<string, SchemaNode>; items?: SchemaNode; anyOf?: SchemaNode[]; description?: string };

function deref(node: SchemaNode | undefined): SchemaNode | undefined {
  let current = node;
  for (let i = 0; current?.$ref && i < 8; i++) {
    let target: unknown = storySchema();
    for (const p of current.$ref.replace(/^#\//, "").split("/")) target = (target as Record<string, unknown> | undefined)?.[p];
    current = target as SchemaNode | undefined;
  }
  return current;
}

/**
 * The subschema that describes the value at an instance pointer. Ajv's
 * standalone code reports schema paths relative to the $ref it was in, which
 * is ambiguous, so the schema is walked along the data's own path instead.
 */
function schemaForInstance(pointer: string): SchemaNode | undefined {
  let node = deref(storySchema() as SchemaNode);
  for (const segment of parsePointer(pointer)) {
    if (!node) return undefined;
    if (node.anyOf && !node.properties && !node.items) node = deref(node.anyOf.find((b) => deref(b)?.properties || deref(b)?.items));
    node = deref(/^\d+$/.test(segment) && node?.items ? node.items : node?.properties?.[segment]);
  }
  return node;
}

function allowedFields(instancePointer: string): string[] {
  const props = schemaForInstance(instancePointer)?.properties;
  return props ? Object.keys(props).filter((k) => k !== "$schema") : [];
}

function fieldDescription(instancePointer: string, field: string): string | undefined {
  return deref(schemaForInstance(instancePointer)?.properties?.[field])?.description ?? schemaForInstance(instancePointer)?.properties?.[field]?.description;
}
