import { dirname } from "node:path";
import type { Diagnostic } from "./diagnostics.js";
import { checkMediaContent, type MediaUse, type MediaVerdict } from "./media-content.js";
import { locateMedia } from "./media-path.js";
import { ElementIndex, findReferences } from "./references.js";
import { label, suggest } from "./schema.js";
import { pointerOf, type StorySource } from "./source.js";
import { ELEMENT_KINDS, type ElementKind } from "./types.js";

const KIND_SINGULAR: Record<ElementKind, string> = { characters: "a character", environments: "an environment", objects: "an object" };

type Json = Record<string, unknown>;
const isObject = (v: unknown): v is Json => v !== null && typeof v === "object" && !Array.isArray(v);
const list = (v: unknown): unknown[] => (Array.isArray(v) ? v : []);

/**
 * Checks what a schema cannot say: names that must be unique across lists,
 * references between scenes and elements, and files the story points to.
 * Works on data that may also have schema errors, so it checks types as it goes.
 */
export async function checkSemantics(source: StorySource, data: unknown): Promise<Diagnostic[]> {
  if (!isObject(data)) return [];
  const out: Diagnostic[] = [];
  const line = (pointer: string) => source.position(source.range(pointer)[0]).line;

  // Element names, unique across all three kinds.
  const firstByName = new Map<string, { kind: ElementKind; pointer: string }>();
  for (const kind of ELEMENT_KINDS) {
    list(data[kind]).forEach((element, i) => {
      if (!isObject(element) || typeof element.name !== "string") return;
      const pointer = pointerOf(kind, i, "name");
      const key = element.name.trim().replace(/\s+/g, " ").toLowerCase();
      const first = firstByName.get(key);
      if (first) {
        out.push(
          source.diagnostic(
            "error",
            "duplicate-element",
            source.range(pointer),
            pointer,
            `the name ${JSON.stringify(element.name)} is already used by ${KIND_SINGULAR[first.kind]} (line ${line(first.pointer)})`,
            "element names are compared without case, across characters, environments and objects: rename one of them",
          ),
        );
      } else {
        firstByName.set(key, { kind, pointer });
      }
    });
  }

  // **Name** mentions in every description.
  const index = new ElementIndex(data);
  const used = new Set<string>();
  const checkMentions = (text: unknown, pointer: string, countsAsUse: boolean) => {
    if (typeof text !== "string") return;
    const occurrences = new Map<string, number>();
    for (const ref of findReferences(text)) {
      const nth = occurrences.get(ref.raw) ?? 0;
      occurrences.set(ref.raw, nth + 1);
      const element = index.resolve(ref.name);
      if (element) {
        if (countsAsUse) used.add(`${element.kind}/${element.index}`);
        continue;
      }
      const guess = suggest(ref.name, index.names());
      out.push(
        source.diagnostic(
          "error",
          "unknown-reference",
          source.rangeOfText(pointer, ref.raw, nth),
          pointer,
          `${ref.raw} names no character, environment or object`,
          guess
            ? `did you mean **${guess}**?`
            : index.names().length
              ? `add an element named ${JSON.stringify(ref.name)}, or remove the asterisks`
              : `add ${JSON.stringify(ref.name)} to characters, environments or objects, or remove the asterisks`,
        ),
      );
    }
  };
  list(data.scenes).forEach((scene, i) => {
    if (isObject(scene)) checkMentions(scene.description, pointerOf("scenes", i, "description"), true);
  });
  if (isObject(data.title_scene)) checkMentions(data.title_scene.description, pointerOf("title_scene", "description"), true);
  for (const kind of ELEMENT_KINDS) {
    list(data[kind]).forEach((element, i) => {
      if (isObject(element)) checkMentions(element.description, pointerOf(kind, i, "description"), false);
    });
  }

  // Scenes: ids unique, narration not blank.
  const firstById = new Map<string, string>();
  list(data.scenes).forEach((scene, i) => {
    if (!isObject(scene)) return;
    if (typeof scene.id === "string") {
      const pointer = pointerOf("scenes", i, "id");
      const first = firstById.get(scene.id);
      if (first) {
        out.push(
          source.diagnostic(
            "error",
            "duplicate-scene-id",
            source.range(pointer),
            pointer,
            `the scene id ${JSON.stringify(scene.id)} is already used by ${label(first.replace(/\/id$/, ""))} (line ${line(first)})`,
            "scene ids must be unique in a story: rename one of them",
          ),
        );
      } else {
        firstById.set(scene.id, pointer);
      }
    }
    if (typeof scene.narrator === "string" && scene.narrator.trim() === "") {
      const pointer = pointerOf("scenes", i, "narrator");
      out.push(
        source.diagnostic(
          "error",
          "empty-narration",
          source.range(pointer),
          pointer,
          `${label(pointerOf("scenes", i))} has an empty narration`,
          "write the line the narrator speaks in this scene",
        ),
      );
    }
  });

  // Media files and URLs.
  const media: Array<{ value: unknown; pointer: string; use: MediaUse }> = [];
  for (const kind of ELEMENT_KINDS) {
    list(data[kind]).forEach((element, i) => {
      if (isObject(element)) media.push({ value: element.image_url, pointer: pointerOf(kind, i, "image_url"), use: "image" });
    });
  }
  list(data.scenes).forEach((scene, i) => {
    if (isObject(scene)) media.push({ value: scene.image_url, pointer: pointerOf("scenes", i, "image_url"), use: "image" });
  });
  if (isObject(data.music)) media.push({ value: data.music.music_url, pointer: pointerOf("music", "music_url"), use: "audio" });
  const storyDir = dirname(source.file);
  const located = await Promise.all(
    media.map(async (m) => (typeof m.value === "string" && m.value !== "" ? { ...m, where: await locateMedia(m.value, storyDir) } : null)),
  );
  const contents = new Map<string, Promise<MediaVerdict>>();
  for (const m of located) {
    if (!m) continue;
    if (m.where.kind === "invalid") {
      out.push(source.diagnostic("error", m.where.reason, source.range(m.pointer), m.pointer, m.where.message, m.where.hint));
    } else if (m.where.kind === "local") {
      const key = `${m.use}:${m.where.path}`;
      if (!contents.has(key)) contents.set(key, checkMediaContent(m.where.path, m.use));
      const verdict = await contents.get(key)!;
      if (!verdict.ok) out.push(source.diagnostic("error", verdict.code, source.range(m.pointer), m.pointer, `${String(m.value)}: ${verdict.message}`, verdict.hint));
    }
  }

  // Elements that no scene shows are probably forgotten.
  if (list(data.scenes).length > 0) {
    for (const kind of ELEMENT_KINDS) {
      list(data[kind]).forEach((element, i) => {
        if (!isObject(element) || typeof element.name !== "string" || element.name.trim() === "" || used.has(`${kind}/${i}`)) return;
        if (index.resolve(element.name)?.index !== i || index.resolve(element.name)?.kind !== kind) return;
        const pointer = pointerOf(kind, i, "name");
        out.push(
          source.diagnostic(
            "warning",
            "unused-element",
            source.range(pointer),
            pointer,
            `no scene refers to ${KIND_SINGULAR[kind]} named ${JSON.stringify(element.name)}`,
            `write **${element.name}** in the description of each scene it appears in, or remove it`,
          ),
        );
      });
    }
  }
  return out;
}
