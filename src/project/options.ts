/**
 * The options that several commands share, in one typed table (after
 * vitest's CLI option table). Each entry says its flag, its help, how its
 * value is parsed, which commands take it and which field of
 * storyc.config.yaml sets its default. Adding an option is one entry.
 */

/** Turns the text after a flag into a value, or says what it accepts. */
export interface Parser<T> {
  parse(raw: string): { ok: true; value: T } | { ok: false };
  /** What the parser accepts, for the usage error and the help. */
  readonly accepted: string;
}

export function integer(min: number, max: number): Parser<number> {
  return {
    accepted: `a whole number from ${min} to ${max}`,
    parse(raw) {
      const text = raw.trim();
      if (!/^[+]?\d+$/.test(text)) return { ok: false };
      const value = Number(text);
      return value >= min && value <= max ? { ok: true, value } : { ok: false };
    },
  };
}

/** A duration in seconds: `30`, `2.5`, `30s`, `2m`, `1h`. */
export function seconds(max: number): Parser<number> {
  const unit = { s: 1, m: 60, h: 3600 } as const;
  return {
    accepted: `a number of seconds from 0 to ${max} (e.g. 30, 2.5, 90s, 5m)`,
    parse(raw) {
      const match = /^(\d+(?:\.\d+)?|\.\d+)\s*([smh]?)$/.exec(raw.trim());
      if (!match) return { ok: false };
      const value = Number(match[1]) * unit[(match[2] || "s") as keyof typeof unit];
      return Number.isFinite(value) && value <= max ? { ok: true, value } : { ok: false };
    },
  };
}

/** A TCP port; 0 asks the system for any free one when `allowAny`. */
export function port(options: { allowAny: boolean }): Parser<number> {
  const min = options.allowAny ? 0 : 1;
  const whole = integer(min, 65535);
  return { accepted: `a port number from ${min} to 65535${options.allowAny ? " (0: any free port)" : ""}`, parse: whole.parse };
}

/** Any text that is not empty: a URL or a path, checked where it is used. */
export function text(what: string): Parser<string> {
  return {
    accepted: what,
    parse(raw) {
      return raw.trim() ? { ok: true, value: raw.trim() } : { ok: false };
    },
  };
}

export function oneOf<const T extends string>(values: readonly T[]): Parser<T> {
  return {
    accepted: `one of: ${values.join(", ")}`,
    parse(raw) {
      const value = raw.trim();
      return (values as readonly string[]).includes(value) ? { ok: true, value: value as T } : { ok: false };
    },
  };
}

export type CommandName = "validate" | "plan" | "build" | "watch" | "new" | "graph" | "gc" | "worker";

export interface OptionSpec<T = unknown> {
  /** Commander's flags, e.g. "-j, --jobs <n>". */
  flags: string;
  description: string;
  /** Absent for a flag without a value. */
  parser?: Parser<T>;
  commands: readonly CommandName[];
  /** The field of storyc.config.yaml that sets this option's default for the project. */
  config?: string;
  /** Repeatable: every occurrence is collected in a list. */
  repeatable?: boolean;
  /** Shown in the help after the description. */
  defaultText?: string;
  /** The value when the flag is absent and nothing else sets it. */
  defaultValue?: T;
}

export const RENDERERS = ["local", "vimmerse", "test"] as const;
export const QUALITIES = ["standard", "high", "draft"] as const;
export const ASPECT_RATIOS = ["16:9", "4:3", "1:1", "3:4", "9:16"] as const;
/** What a farm worker can run: paid cloud calls stay with the building process. */
export const WORKER_RENDERERS = ["local", "test"] as const;

// `const` keeps each entry's literal types, so that option values are typed from the table.
const option = <const S extends OptionSpec<any>>(spec: S) => spec;

export const OPTIONS = {
  renderer: option({
    flags: "-r, --renderer <name>",
    description: "renderer: local (offline animatic), vimmerse (cloud) or test (placeholder files)",
    parser: oneOf(RENDERERS),
    commands: ["plan", "build", "watch"],
    config: "renderer",
    defaultText: "renderer in storyc.config.yaml, else local",
  }),
  jobs: option({
    flags: "-j, --jobs <n>",
    description: "how many nodes to render at once",
    parser: integer(1, 256),
    commands: ["build", "watch"],
    config: "jobs",
    defaultText: "jobs in storyc.config.yaml, else the number of cores plus one",
  }),
  quality: option({
    flags: "--quality <level>",
    description: "local renderer: standard (720p), high (1080p) or draft (360p, faster encoder settings: for the edit loop)",
    parser: oneOf(QUALITIES),
    commands: ["plan", "build", "watch"],
    config: "quality",
    defaultText: "quality in storyc.config.yaml, else standard",
  }),
  // The URL may hold credentials: the help shows no default and nothing echoes it.
  remoteCache: option({
    flags: "--remote-cache <url>",
    description: "team cache: http(s)://host/path (Bazel HTTP cache protocol), s3://bucket/prefix or a folder",
    parser: text("an http(s):// or s3:// URL, or a folder"),
    commands: ["plan", "build", "watch", "worker"],
    config: "remote_cache",
    defaultText: "STORYC_REMOTE_CACHE; in a project, else remote_cache in storyc.config.yaml",
  }),
  // A Redis URL may hold a password: no default is shown and nothing echoes it.
  queue: option({
    flags: "--queue <url>",
    description: "render farm: the Redis (redis://HOST:PORT) whose queue storyc workers take nodes from; with --remote-cache",
    parser: text("a redis://HOST:PORT URL"),
    commands: ["build", "watch", "worker"],
    defaultText: "STORYC_QUEUE; in a project, else queue in storyc.config.yaml",
  }),
  remoteCacheReadonly: option({
    flags: "--remote-cache-readonly",
    description: "read the team cache, never write to it (also STORYC_REMOTE_CACHE_READONLY=1): for untrusted builds",
    commands: ["plan", "build", "watch"],
  }),
  force: option({
    flags: "--force <node>",
    description: "treat a node (or a pattern with *) as stale and render it again, with everything downstream; repeatable",
    commands: ["plan", "build"],
    repeatable: true,
  }),
  lockTimeout: option({
    flags: "--lock-timeout <seconds>",
    description: "wait this long for another build of the same story to finish",
    parser: seconds(24 * 3600),
    commands: ["build"],
    defaultText: "0, fail at once",
  }),
  webhookPort: option({
    flags: "--webhook-port <port>",
    description: "vimmerse renderer: receive the API's webhooks on 127.0.0.1:PORT (a hint; status is confirmed with a GET)",
    parser: port({ allowAny: false }),
    commands: ["build"],
  }),
  port: option({
    flags: "-p, --port <port>",
    description: "preview port on 127.0.0.1",
    parser: port({ allowAny: true }),
    commands: ["watch"],
    defaultText: "any free one",
  }),
  scenes: option({
    flags: "--scenes <n>",
    description: "how many scenes",
    parser: integer(1, 50),
    commands: ["new"],
  }),
  aspect: option({
    flags: "--aspect <ratio>",
    description: "the aspect ratio",
    parser: oneOf(ASPECT_RATIOS),
    commands: ["new"],
    defaultText: "16:9",
  }),
  draftRenderer: option({
    flags: "-r, --renderer <name>",
    description: "vimmerse (the Story API drafts it, needs VIMMERSE_API_KEY) or local (an offline template)",
    parser: oneOf(["vimmerse", "local"]),
    commands: ["new"],
    defaultText: "vimmerse when VIMMERSE_API_KEY is set, else local",
  }),
  concurrency: option({
    flags: "-c, --concurrency <n>",
    description: "how many nodes to make at once",
    parser: integer(1, 64),
    commands: ["worker"],
    defaultValue: 1,
  }),
  workerRenderer: option({
    flags: "-r, --renderer <name>",
    description: "local (the animatic) or test (placeholder files); paid cloud calls stay with the building process",
    parser: oneOf(WORKER_RENDERERS),
    commands: ["worker"],
    defaultValue: "local",
  }),
  cacheDir: option({
    flags: "--cache-dir <dir>",
    description: "this machine's cache of blobs",
    parser: text("a folder"),
    commands: ["worker"],
    defaultText: "~/.cache/storyc/worker",
  }),
  name: option({
    flags: "--name <name>",
    description: "how results and events name this worker",
    parser: text("a name"),
    commands: ["worker"],
    defaultText: "host:pid",
  }),
  format: option({
    flags: "--format <format>",
    description: "the graph's notation",
    parser: oneOf(["mermaid", "dot"]),
    commands: ["graph"],
    defaultValue: "mermaid",
  }),
} as const;

export type OptionName = keyof typeof OPTIONS;

/** The value type of an option of the table. */
export type OptionValue<K extends OptionName> = (typeof OPTIONS)[K] extends { repeatable: true }
  ? string[]
  : (typeof OPTIONS)[K] extends { parser: Parser<infer T> }
    ? T
    : boolean;

/** The options a command was given, typed from the table. */
export type TableOptions<K extends OptionName> = { [P in K]?: OptionValue<P> };

/** Parses one option's text as the command line would; for tests and for tools that take the same values. */
export function parseOption<K extends OptionName>(name: K, raw: string): { ok: true; value: OptionValue<K> } | { ok: false; message: string } {
  const spec = OPTIONS[name] as OptionSpec;
  if (!spec.parser) return { ok: true, value: raw as OptionValue<K> };
  const parsed = spec.parser.parse(raw);
  const flag = spec.flags.split(/[ ,]+/).find((f) => f.startsWith("--")) ?? spec.flags;
  return parsed.ok ? { ok: true, value: parsed.value as OptionValue<K> } : { ok: false, message: `${flag} cannot be ${JSON.stringify(raw)}: expected ${spec.parser.accepted}` };
}

/** The entries that storyc.config.yaml can set, by config field. */
export function configOptions(): Array<[OptionName, OptionSpec & { config: string }]> {
  return (Object.entries(OPTIONS) as Array<[OptionName, OptionSpec]>).filter((e): e is [OptionName, OptionSpec & { config: string }] => e[1].config !== undefined);
}
