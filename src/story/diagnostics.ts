/** A problem found in a story file, with where it is and what to do about it. */
export type Severity = "error" | "warning";

export interface Position {
  /** 1-based line. */
  line: number;
  /** 1-based column, counted in UTF-16 code units like editors do. */
  column: number;
}

export interface Diagnostic {
  severity: Severity;
  code: DiagnosticCode;
  message: string;
  hint?: string;
  file: string;
  start: Position;
  end: Position;
  /** JSON pointer of the offending node ("" for the whole document). */
  pointer: string;
}

export type DiagnosticCode =
  // reading and parsing
  | "file-unreadable"
  | "file-too-large"
  | "not-text"
  | "yaml-syntax"
  | "duplicate-key"
  | "alias-limit"
  | "not-a-mapping"
  // schema
  | "unsupported-version"
  | "missing-field"
  | "unknown-field"
  | "wrong-type"
  | "invalid-value"
  | "out-of-range"
  | "empty-value"
  | "story-without-content"
  // semantics
  | "duplicate-element"
  | "unknown-reference"
  | "duplicate-scene-id"
  | "empty-narration"
  | "unsupported-url"
  | "path-escape"
  | "missing-file"
  | "media-empty"
  | "media-too-large"
  | "media-wrong-content"
  | "unused-element"
  // what a writer can act on
  | "narration-too-long"
  | "unknown-voice"
  | "unspoken-language"
  | "unknown-camera-move";

export function countBySeverity(diagnostics: readonly Diagnostic[]): { errors: number; warnings: number } {
  let errors = 0;
  let warnings = 0;
  for (const d of diagnostics) {
    if (d.severity === "error") errors++;
    else warnings++;
  }
  return { errors, warnings };
}
