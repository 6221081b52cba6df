import { writeFile } from "node:fs/promises";
import { makeDir } from "./os-errors.js";
import { findProjectRoot } from "./paths.js";
import { schemaRef, storySchemaCopy, syncSchemaCopies } from "./schema-copy.js";
import { dirname, resolve } from "node:path";
import { stringify } from "yaml";
import { ElementIndex, findReferences } from "../story/references.js";
import type { AspectRatio, Story } from "../story/types.js";
import { ELEMENT_KINDS } from "../story/types.js";

export interface DraftOptions {
  idea: string;
  scenes?: number;
  aspect?: AspectRatio;
  title?: string;
  /** "vimmerse" drafts with the Story API (needs VIMMERSE_API_KEY); "local" writes a template. */
  renderer?: "local" | "vimmerse";
  env?: NodeJS.ProcessEnv;
  signal?: AbortSignal;
}

export interface Draft {
  story: Story;
  source: "vimmerse" | "template";
  /** Why a template was written instead of asking the API. */
  note?: string;
}

/** Drafts a storyboard from an idea: through the Story API when it can, else a labelled template. */
export async function draftStory(options: DraftOptions): Promise<Draft> {
  const env = options.env ?? process.env;
  const wantCloud = options.renderer !== "local";
  if (wantCloud && env.VIMMERSE_API_KEY) {
    const { VimmerseClient } = await import("../render/vimmerse/client.js");
    const { fromApiStoryboard } = await import("../render/vimmerse/storyboard.js");
    const { languageName } = await import("../render/vimmerse/language.js");
    const client = new VimmerseClient({ apiKey: env.VIMMERSE_API_KEY, ...(env.VIMMERSE_API_URL ? { baseUrl: env.VIMMERSE_API_URL } : {}) });
    const created = await client.createStory(
      {
        idea: options.idea,
        scene_count: options.scenes ?? 3,
        language: languageName("en"),
        ...(options.aspect ? { aspect_ratio: options.aspect } : {}),
        ...(options.title ? { title: options.title } : {}),
      },
      options.signal,
    );
    const story = fromApiStoryboard(created.storyboard ?? {}, {
      title: options.title ?? (created.title || titleFromIdea(options.idea)),
      idea: options.idea,
      ...(options.aspect ? { aspect_ratio: options.aspect } : {}),
    });
    return { story: tidy(story), source: "vimmerse" };
  }
  return {
    story: templateStory(options),
    source: "template",
    note: wantCloud ? "VIMMERSE_API_KEY is not set, so this is a template written offline" : "written offline from the idea",
  };
}

function titleFromIdea(idea: string): string {
  const words = idea.replace(/[.!?].*$/s, "").split(/\s+/).slice(0, 6).join(" ");
  return words.charAt(0).toUpperCase() + words.slice(1);
}

function templateStory(options: DraftOptions): Story {
  const count = options.scenes ?? 3;
  const beats = ["The setup", "The turn", "The challenge", "The discovery", "The climax", "The resolution"];
  const scenes = Array.from({ length: count }, (_, i) => {
    const beat = i === count - 1 ? "The resolution" : beats[Math.min(i, beats.length - 2)]!;
    return {
      id: `scene-${i + 1}`,
      description: `lighting: soft daylight, ${beat.toLowerCase()}: **Hero** in the **Setting**. Describe what the frame shows.`,
      narrator: `${beat}. Write the narrator's line for scene ${i + 1}.`,
      motion_description: `camera motion: ${["dolly in", "pan right", "zoom in", "tilt up", "zoom out", "static"][i % 6]}, camera angle: eye level`,
    };
  });
  return {
    storyc: 1,
    title: options.title ?? titleFromIdea(options.idea),
    idea: options.idea,
    settings: { aspect_ratio: options.aspect ?? "16:9" },
    characters: [{ name: "Hero", description: `The main character of: ${options.idea.replace(/[.\s]+$/, "")}. Describe their look: colours, clothes, build.` }],
    environments: [{ name: "Setting", description: "Where the story happens. Describe the light, colours and materials." }],
    music: { description: "Describe the mood: calm, upbeat, tense; the instruments and the tempo." },
    scenes,
  };
}

/** Makes an API draft valid: mentions of unknown elements lose their asterisks, duplicate names go, empty lines get text. */
function tidy(story: Story): Story {
  const seen = new Set<string>();
  for (const kind of ELEMENT_KINDS) {
    const list = story[kind];
    if (!list) continue;
    story[kind] = list.filter((e) => {
      const key = e.name.toLowerCase();
      if (seen.has(key)) return false;
      seen.add(key);
      return true;
    });
  }
  const index = new ElementIndex(story);
  const fix = (text: string) => {
    let out = text;
    for (const ref of findReferences(text)) if (!index.resolve(ref.name)) out = out.split(ref.raw).join(ref.name);
    return out;
  };
  for (const scene of story.scenes ?? []) {
    scene.description = fix(scene.description);
    if (!scene.narrator.trim()) scene.narrator = "Write the narrator's line for this scene.";
  }
  for (const kind of ELEMENT_KINDS) for (const e of story[kind] ?? []) e.description = fix(e.description);
  if (story.title_scene?.description) story.title_scene.description = fix(story.title_scene.description);
  return story;
}

/** Writes a draft as an editable story file with the schema modeline. */
export async function writeDraft(file: string, draft: Draft, options: { overwrite?: boolean } = {}): Promise<{ schemaCopies: string[] }> {
  const target = resolve(file);
  await makeDir(dirname(target));
  // The modeline points into the story repo's own copy of the schema, which every collaborator has.
  const root = findProjectRoot(dirname(target));
  const schemaCopies = await syncSchemaCopies(root, { createMissing: true });
  const header = [
    `# yaml-language-server: $schema=${schemaRef(target, storySchemaCopy(root))}`,
    draft.source === "template"
      ? `# TEMPLATE DRAFT (${draft.note ?? "written offline"}): replace the descriptions and narrator lines, then run storyc validate.`
      : "# Drafted by the Vimmerse Story API from the idea below: edit freely, then run storyc validate.",
  ].join("\n");
  await writeFile(target, `${header}\n${stringify(draft.story, { lineWidth: 100 })}`, { flag: options.overwrite ? "w" : "wx" });
  return { schemaCopies };
}
