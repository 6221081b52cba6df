import { existsSync, readFileSync } from "node:fs";
import { availableParallelism } from "node:os";
import { join } from "node:path";
import type { ErrorObject } from "ajv";
import { closest, distance } from "fastest-levenshtein";
import type { Diagnostic } from "../story/diagnostics.js";
import type { MappingShape, StorySource } from "../story/source.js";
import { configSchemaPath } from "../paths.js";
import { resolveRemoteCacheSettings, type RemoteCacheSettings } from "../remote-cache/open.js";
import { configOptions } from "./options.js";

/** The project config's name, at the project root (the folder with .git, .storyc or this file). */
export const CONFIG_FILE = "storyc.config.yaml";

/** Project-wide defaults for build, plan and watch; a command-line flag wins over each. */
export interface ProjectConfig {
  renderer?: "local" | "vimmerse" | "test";
  jobs?: number;
  quality?: "standard" | "high" | "draft";
  /** Relative to the project root. */
  out?: string;
  /** The team cache's URL or folder; never with credentials. */
  remote_cache?: string;
  /** The render farm's Redis (redis://HOST:PORT); never with a password. */
  queue?: string;
}

export type ConfigResult =
  | { ok: true; file: string; config: ProjectConfig }
  | { ok: false; file: string; diagnostics: Diagnostic[]; text: string | undefined };

const SHAPE: MappingShape = {
  what: "the project config",
  example: "`renderer: local`, `jobs: 2`, ...",
  hint: `see schemas/config.schema.json for the fields of ${CONFIG_FILE}`,
};

export function configPath(projectRoot: string): string {
  return join(projectRoot, CONFIG_FILE);
}

/** Reads the project's config; no file means no defaults to apply. Never throws for what the file holds. */
export async function loadProjectConfig(projectRoot: string): Promise<ConfigResult> {
  const file = configPath(projectRoot);
  if (!existsSync(file)) return { ok: true, file, config: {} };
  // The YAML parser loads only when there is a config to read: a build of a project without one does not pay for it.
  const { loadStorySource } = await import("../story/source.js");
  const loaded = await loadStorySource(file, SHAPE);
  // A file of comments only is a config with nothing set.
  if (!loaded.ok && loaded.source && loaded.source.doc.contents === null) return { ok: true, file, config: {} };
  if (!loaded.ok) return { ok: false, file, diagnostics: loaded.diagnostics, text: loaded.source?.text };
  const errors = loaded.diagnostics.filter((d) => d.severity === "error");
  if (errors.length) return { ok: false, file, diagnostics: loaded.diagnostics, text: loaded.source.text };
  // Loaded only when there is a config: most projects have none, and every command start pays for imports.
  const { default: validateConfig } = await import("./config-validator.js");
  if (!validateConfig(loaded.data)) {
    return { ok: false, file, diagnostics: (validateConfig.errors ?? []).map((e) => describe(loaded.source, loaded.data, e)), text: loaded.source.text };
  }
  return { ok: true, file, config: loaded.data as ProjectConfig };
}

interface PropertySchema {
  enum?: string[];
  minimum?: number;
  maximum?: number;
  description?: string;
}

let properties: Record<string, PropertySchema> | undefined;
/** The schema's fields, read only when a config is wrong and a message needs them. */
function configProperties(): Record<string, PropertySchema> {
  properties ??= (JSON.parse(readFileSync(configSchemaPath(), "utf8")) as { properties: Record<string, PropertySchema> }).properties;
  return properties;
}

function describe(source: StorySource, data: unknown, e: ErrorObject): Diagnostic {
  const at = e.instancePath;
  const field = at.slice(1);
  const value = field ? (data as Record<string, unknown>)[field] : data;
  const about = configProperties()[field]?.description;
  switch (e.keyword) {
    case "additionalProperties": {
      const extra = String((e.params as { additionalProperty: string }).additionalProperty);
      const names = Object.keys(configProperties()).filter((n) => n !== "$schema");
      const guess = closest(extra, names);
      const hint = distance(extra, guess) <= Math.max(2, Math.floor(extra.length / 3)) ? `did you mean \`${guess}\`?` : `the fields are: ${names.join(", ")}`;
      return source.diagnostic("error", "unknown-field", source.range(`/${extra}`, "key"), `/${extra}`, `${CONFIG_FILE} has no field \`${extra}\``, hint);
    }
    case "enum": {
      const allowed = (e.params as { allowedValues: string[] }).allowedValues;
      return source.diagnostic("error", "invalid-value", source.range(at), at, `\`${field}\` cannot be ${JSON.stringify(value)}`, `write one of: ${allowed.join(", ")}`);
    }
    case "minimum":
    case "maximum": {
      const { comparison, limit } = e.params as { comparison: string; limit: number };
      return source.diagnostic("error", "out-of-range", source.range(at), at, `\`${field}\` must be ${comparison} ${limit}`, about);
    }
    case "pattern":
      return source.diagnostic("error", "invalid-value", source.range(at), at, `\`${field}\` must not hold a user or password`, field === "queue" ? "give the URL with its password in STORYC_QUEUE, never in a committed file" : "give credentials in the environment (STORYC_REMOTE_CACHE_TOKEN, or the URL in STORYC_REMOTE_CACHE), never in a committed file");
    case "minLength":
      return source.diagnostic("error", "empty-value", source.range(at), at, `\`${field}\` is empty`, about);
    default:
      return source.diagnostic("error", "wrong-type", source.range(at), at, `\`${field || CONFIG_FILE}\` ${e.message ?? "is not valid"}`, about);
  }
}

/** Flags a command was given; each one set wins over the config. */
export interface ProjectFlags {
  renderer?: string;
  jobs?: number;
  quality?: string;
  /** The folder for this story's outputs, as given on the command line (absolute). */
  outDir?: string;
  remoteCache?: string;
  remoteCacheReadonly?: boolean;
  queue?: string;
}

/** Nodes in flight at once on a farm when neither -j nor the config says: the workers' slots, not this machine's cores, are the limit. */
export const FARM_JOBS = 64;

/**
 * Nodes in flight at once on this machine when neither -j nor the config says:
 * one more than the cores. A local build's nodes are either encodes, which
 * ffmpeg spreads over the cores, or a still, a narration or the music, made on
 * storyc's own thread; with one node per core, a core waits whenever a slot
 * holds one of the latter. Cold bunny build on 2 cores: -j 3 and -j 4 took
 * 9-18% and 17-25% less wall time than -j 2 in the same runs; one more than
 * the cores keeps the encoders (and their memory) to what the cores can run.
 */
export function defaultJobs(): number {
  return availableParallelism() + 1;
}

export interface ProjectSettings {
  renderer: string;
  jobs: number;
  quality?: string;
  outDir?: string;
  /** Every option of the table that the config can set, flag over config; for options added later. */
  options: Record<string, unknown>;
  remoteCache?: RemoteCacheSettings;
  /** The render farm's Redis URL (it may hold a password from STORYC_QUEUE: never print it unredacted). */
  queue?: string;
}

/** Flags over config over built-in defaults; the fields the config can set come from the option table. */
export function applyConfig(
  flags: ProjectFlags,
  config: ProjectConfig,
  project: { root: string; storyName: string },
  defaultJobs: number,
  env: NodeJS.ProcessEnv = {},
): ProjectSettings {
  const options: Record<string, unknown> = {};
  for (const [name, spec] of configOptions()) {
    const value = (flags as Record<string, unknown>)[name] ?? (config as Record<string, unknown>)[spec.config] ?? spec.defaultValue;
    if (value !== undefined) options[name] = value;
  }
  const remoteCache = resolveRemoteCacheSettings(flags, config, env);
  const outDir = flags.outDir ?? (config.out ? join(project.root, config.out, project.storyName) : undefined);
  const quality = options.quality as string | undefined;
  // The queue URL is not in the option table's config pass: STORYC_QUEUE may carry a password and wins over the file.
  const queue = (flags.queue as string | undefined) ?? (env.STORYC_QUEUE || undefined) ?? config.queue;
  return {
    renderer: (options.renderer as string | undefined) ?? "local",
    jobs: (flags.jobs as number | undefined) ?? config.jobs ?? (queue ? FARM_JOBS : defaultJobs),
    ...(queue ? { queue } : {}),
    ...(quality ? { quality } : {}),
    ...(outDir ? { outDir } : {}),
    options,
    ...(remoteCache ? { remoteCache } : {}),
  };
}
