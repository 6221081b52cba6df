import { resolve } from "node:path";
import { plan } from "../engine/build.js";
import { graphToDot, graphToMermaid } from "../report/graph-text.js";
import { reportFailure } from "./failure.js";
import type { TableOptions } from "../project/options.js";
import { ExitCode, type CliIO } from "./io.js";

export async function graphCommand(story: string, options: TableOptions<"format" | "renderer">, io: CliIO): Promise<number> {
  const format = options.format ?? "mermaid";
  const result = await plan(resolve(io.cwd, story), { renderer: options.renderer ?? "test", env: io.env });
  if (!result.ok) return reportFailure(result.failure, io);
  io.stdout.write(format === "dot" ? graphToDot(result.graph) : graphToMermaid(result.graph));
  return ExitCode.ok;
}
