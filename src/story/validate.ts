import { countBySeverity, type Diagnostic } from "./diagnostics.js";
import { checkSchema } from "./schema.js";
import { checkSemantics } from "./semantic.js";
import { checkWriterWarnings } from "./writer-warnings.js";
import { loadStorySource, parseStoryText, type LoadResult, type StorySource } from "./source.js";
import type { Story } from "./types.js";

export interface ValidateOptions {
  /** Count warnings as errors. */
  strict?: boolean;
}

export interface FileValidation {
  file: string;
  /** True when the file has no errors (and, with `strict`, no warnings). */
  valid: boolean;
  /** The story, present when it is valid. */
  story?: Story;
  source?: StorySource;
  diagnostics: Diagnostic[];
}

/** Validates story text: syntax, schema and semantics, every problem in one pass. */
export async function validateText(file: string, text: string, options: ValidateOptions = {}): Promise<FileValidation> {
  return finish(file, parseStoryText(file, text), options);
}

/** Validates one story file. Never throws for anything the file contains. */
export async function validateFile(file: string, options: ValidateOptions = {}): Promise<FileValidation> {
  return finish(file, await loadStorySource(file), options);
}

async function finish(file: string, loaded: LoadResult, options: ValidateOptions): Promise<FileValidation> {
  if (!loaded.ok) return { file, valid: false, diagnostics: sortDiagnostics(loaded.diagnostics), ...(loaded.source ? { source: loaded.source } : {}) };
  const { source, data } = loaded;
  const diagnostics = [...loaded.diagnostics, ...checkSchema(source, data), ...(await checkSemantics(source, data)), ...checkWriterWarnings(source, data)];
  const { errors, warnings } = countBySeverity(diagnostics);
  const valid = errors === 0 && !(options.strict && warnings > 0);
  const result: FileValidation = { file, valid, source, diagnostics: sortDiagnostics(diagnostics) };
  if (valid) result.story = data as Story;
  return result;
}

export interface ValidationReport {
  valid: boolean;
  files: FileValidation[];
  errors: number;
  warnings: number;
}

/** Validates several story files; the report is valid when every file is. */
export async function validate(files: readonly string[], options: ValidateOptions = {}): Promise<ValidationReport> {
  const results = await Promise.all(files.map((f) => validateFile(f, options)));
  let errors = 0;
  let warnings = 0;
  for (const r of results) {
    const c = countBySeverity(r.diagnostics);
    errors += c.errors;
    warnings += c.warnings;
  }
  return { valid: results.every((r) => r.valid), files: results, errors, warnings };
}

function sortDiagnostics(list: Diagnostic[]): Diagnostic[] {
  return list.sort((a, b) => a.start.line - b.start.line || a.start.column - b.start.column || a.code.localeCompare(b.code));
}
