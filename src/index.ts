/** storyc's programmatic API. */
export { validate, validateFile, validateText } from "./story/validate.js";
export type { FileValidation, ValidateOptions, ValidationReport } from "./story/validate.js";
export type { Diagnostic, DiagnosticCode, Position, Severity } from "./story/diagnostics.js";
export type { Story, Scene, Element, Settings, ResolvedSettings, AspectRatio } from "./story/types.js";
export { resolveSettings } from "./story/types.js";
export { initStoryRepo } from "./project/init.js";
export { schemaPath } from "./paths.js";
