/** storyc's programmatic API. */
export { validate, validateFile, validateText } from "./story/validate.js";
export type { FileValidation, ValidateOptions, ValidationReport } from "./story/validate.js";
export type { Diagnostic, DiagnosticCode, Position, Severity } from "./story/diagnostics.js";
export type { Story, Scene, Element, Settings, ResolvedSettings, AspectRatio } from "./story/types.js";
export { resolveSettings } from "./story/types.js";
export { initStoryRepo } from "./project/init.js";
export { schemaPath } from "./paths.js";
export { build, plan } from "./build/build.js";
export type { BuildOptions, BuildResult, PlanResult, Failure, StoryOptions } from "./build/build.js";
export type { BuildEvent, BuildSummary } from "./build/events.js";
export type { Plan, PlanItem, PlanAction } from "./build/plan.js";
export { buildGraph } from "./graph/build-graph.js";
export type { BuildGraph, GraphNode, NodeKind } from "./graph/nodes.js";
export type { Renderer, RenderInput, RenderResult, DepOutput } from "./render/types.js";
export { TestRenderer } from "./render/test-renderer.js";
export { collectGarbage } from "./project/gc.js";
