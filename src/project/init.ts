import { readFile, writeFile } from "node:fs/promises";
import { basename, join, resolve } from "node:path";
import { CONFIG_FILE } from "./config.js";
import { makeDir } from "./os-errors.js";
import { SCHEMA_DIR, schemaRef, storySchemaCopy, syncSchemaCopies } from "./schema-copy.js";
import { DRIVER_COMMAND, GITATTRIBUTES_LINE, MERGE_DRIVER, registerMergeDriver, type RegisterResult } from "./merge-driver.js";

export interface InitResult {
  dir: string;
  story: string;
  created: string[];
  updated: string[];
  /** Whether the lockfile merge driver went into the repository's git config. */
  mergeDriver: RegisterResult;
}

export class InitError extends Error {}

const IGNORED = [".storyc/", "out/"];

/**
 * Creates a new story repository: a starter story that validates, a project
 * config with its defaults, a .gitignore for the cache and outputs, and a
 * README. Never overwrites a story, nor any file that exists.
 */
export async function initStoryRepo(dir: string): Promise<InitResult> {
  const root = resolve(dir);
  await makeDir(root);
  const story = join(root, "story.yaml");
  const created: string[] = [];
  const updated: string[] = [];

  try {
    await writeFile(story, starterStory(schemaRef(story, storySchemaCopy(root)), titleFrom(root)), { flag: "wx" });
    created.push(story);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "EEXIST") {
      throw new InitError(`${story} already exists; storyc init does not overwrite a story`);
    }
    throw error;
  }

  const gitignore = join(root, ".gitignore");
  const existing = await readFile(gitignore, "utf8").catch(() => null);
  if (existing === null) {
    await writeFile(gitignore, `# storyc: the cache and rendered videos are rebuilt from the story and its lockfile\n${IGNORED.join("\n")}\n`);
    created.push(gitignore);
  } else {
    const lines = new Set(existing.split(/\r?\n/).map((l) => l.trim()));
    const missing = IGNORED.filter((l) => !lines.has(l) && !lines.has(l.replace(/\/$/, "")));
    if (missing.length) {
      await writeFile(gitignore, `${existing}${existing.endsWith("\n") || existing === "" ? "" : "\n"}${missing.join("\n")}\n`);
      updated.push(gitignore);
    }
  }

  // The schemas the modelines point to, committed with the stories (storyc validate and build keep them current).
  created.push(...(await syncSchemaCopies(root, { createMissing: true })));
  // Lockfiles merge entry by entry (storyc merge-lock), never with conflict markers.
  const gitattributes = join(root, ".gitattributes");
  const attributes = await readFile(gitattributes, "utf8").catch(() => null);
  if (attributes === null) {
    await writeFile(gitattributes, `# storyc: lockfiles merge entry by entry (storyc merge-lock)\n${GITATTRIBUTES_LINE}\n`);
    created.push(gitattributes);
  } else if (!attributes.split(/\r?\n/).some((l) => l.includes(`merge=${MERGE_DRIVER}`))) {
    await writeFile(gitattributes, `${attributes}${attributes.endsWith("\n") || attributes === "" ? "" : "\n"}${GITATTRIBUTES_LINE}\n`);
    updated.push(gitattributes);
  }
  const mergeDriver = await registerMergeDriver(root);
  for (const [file, text] of [
    [join(root, CONFIG_FILE), starterConfig(schemaRef(join(root, CONFIG_FILE), join(root, SCHEMA_DIR, "config.schema.json")))],
    [join(root, "README.md"), starterReadme()],
  ] as const) {
    if (await writeIfAbsent(file, text)) created.push(file);
  }
  return { dir: root, story, created, updated, mergeDriver };
}

async function writeIfAbsent(file: string, text: string): Promise<boolean> {
  try {
    await writeFile(file, text, { flag: "wx" });
    return true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "EEXIST") return false;
    throw error;
  }
}

function titleFrom(dir: string): string {
  const name = basename(dir).replace(/[-_]+/g, " ").trim();
  return name ? name.charAt(0).toUpperCase() + name.slice(1) : "My Story";
}

function starterStory(schemaRef: string, title: string): string {
  return `# yaml-language-server: $schema=${schemaRef}
# A storyc story. Validate it with \`storyc validate story.yaml\`.
# Write **Name** in a scene description to put a character, environment or object in that scene.
storyc: 1
title: ${JSON.stringify(title)}
idea: A lighthouse keeper's cat watches the first storm of autumn roll in.

settings:
  aspect_ratio: "16:9"
  motion: { duration: 5 }
  narrator: Rachel
  background_music: true
  show_title: true

characters:
  - name: Moss
    description: A grey tabby cat with a white chest, green eyes and a notched left ear.

environments:
  - name: Lighthouse Gallery
    description: The iron balcony at the top of a white lighthouse, slate sea below, low purple clouds.

music:
  description: Calm piano and soft strings, slow tempo, turning tense as the storm arrives.

title_scene:
  description: The title written in warm lamplight across the glass of the lantern room.

scenes:
  - id: watch
    description: "lighting: late golden hour, **Moss** sits on the rail of the **Lighthouse Gallery**, tail curled, watching the horizon."
    narrator: Every evening, Moss climbs the hundred steps to keep watch over the sea.
    motion_description: "camera motion: dolly in, camera angle: eye level, Moss's ears turn toward the wind."
  - id: storm
    description: "lighting: storm light, rain streaks past the **Lighthouse Gallery** as the lamp sweeps over **Moss**."
    narrator: Tonight the sea answers back, and the lamp has never looked so bright.
    motion_description: "camera motion: pan right, camera angle: low angle, the beam of light crosses the clouds."
`;
}

function starterConfig(schemaRef: string): string {
  return `# yaml-language-server: $schema=${schemaRef}
# Defaults for storyc build, plan and watch in this project; a flag on the command line wins.
# The API key is never written here: it comes from VIMMERSE_API_KEY in the environment.
renderer: local # or vimmerse, the cloud renderer
# jobs: 4 # nodes rendered at once (default: the number of cores plus one)
# quality: high # local renderer: 1080p instead of 720p (draft: 360p, quicker to render while you edit)
# out: out # videos go to <out>/<story>/
`;
}

function starterReadme(): string {
  return `# A storyc story

\`story.yaml\` is the story; \`story.lock\` (written by builds) records what was rendered, and belongs in git.

storyc is a development dependency of this repo. Once per machine, if \`package.json\` does not list it yet:

\`\`\`sh
npm init -y                                  # only if there is no package.json
npm install --save-dev <storyc git URL, or the path of a storyc clone>
\`\`\`

On a fresh clone of this repo, \`npm install\` brings it back. Then:

- \`npx storyc validate story.yaml\`: check the story, with every problem at its line and column.
- \`npx storyc build story.yaml\`: render the video into \`out/story/\`; only what changed is rendered again.
- \`npx storyc watch story.yaml\`: render again on every save, with a live preview page.
- \`storyc.config.yaml\` holds the project's defaults (renderer, jobs, quality, output folder, remote cache).
- After cloning, register the lockfile merge driver once (git does not copy it):
  \`git config merge.storyc-lock.driver "${DRIVER_COMMAND}"\`

Editors with the YAML language server (VS Code's YAML extension, for one) complete and explain every field
through the \`$schema\` line at the top of the story. It points to \`schemas/story.schema.json\`, a copy of
storyc's schema kept in this repo so that it works for everyone who clones it; \`storyc validate\` and
\`storyc build\` bring it up to date when storyc is upgraded (commit the change).
`;
}
