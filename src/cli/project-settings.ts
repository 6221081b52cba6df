import { relative } from "node:path";
import { applyConfig, defaultJobs, loadProjectConfig, type ConfigResult, type ProjectFlags, type ProjectSettings } from "../project/config.js";
import { storyPaths } from "../project/paths.js";
import { formatDiagnostic, plural } from "../report/diagnostics.js";
import type { Palette } from "../report/color.js";
import { errPalette, ExitCode, type CliIO } from "./io.js";

/** A story's settings for a command: its flags over the project's storyc.config.yaml over defaults. */
export async function projectSettings(storyFile: string, flags: ProjectFlags, io: CliIO): Promise<{ ok: true; settings: ProjectSettings } | { ok: false; exitCode: number }> {
  const paths = storyPaths(storyFile);
  const loaded = await loadProjectConfig(paths.projectRoot);
  if (!loaded.ok) {
    io.stderr.write(formatConfigProblems(loaded, io.cwd, errPalette(io)));
    return { ok: false, exitCode: ExitCode.failure };
  }
  return { ok: true, settings: applyConfig(flags, loaded.config, { root: paths.projectRoot, storyName: paths.name }, defaultJobs(), io.env) };
}

/** The config's diagnostics, with their source lines, and what happens because of them. */
export function formatConfigProblems(result: Extract<ConfigResult, { ok: false }>, cwd: string, p: Palette): string {
  const shown = result.diagnostics.map((d) => formatDiagnostic({ ...d, file: relative(cwd, d.file) || d.file }, result.text, p) + "\n\n").join("");
  const errors = result.diagnostics.filter((d) => d.severity === "error").length;
  return `${shown}${p.red("error")}: the project config is invalid (${plural(errors, "error")}); nothing was built\n`;
}

/** The renderer a story's settings choose, with the options that change its outputs. */
export function rendererChoice(s: ProjectSettings, extra: Record<string, unknown> = {}): { renderer: string; rendererOptions: Record<string, unknown> } {
  return { renderer: s.renderer, rendererOptions: { ...(s.quality ? { quality: s.quality } : {}), ...extra } };
}
