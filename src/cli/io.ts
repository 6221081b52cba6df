import { colorEnabled, palette, type Palette } from "../report/color.js";

/** Where a command writes, so that commands can be run and tested without a real terminal. */
export interface CliIO {
  stdout: NodeJS.WritableStream & { isTTY?: boolean };
  stderr: NodeJS.WritableStream & { isTTY?: boolean };
  env: NodeJS.ProcessEnv;
  cwd: string;
}

export function processIO(): CliIO {
  return { stdout: process.stdout, stderr: process.stderr, env: process.env, cwd: process.cwd() };
}

export function outPalette(io: CliIO): Palette {
  return palette(colorEnabled(io.stdout, io.env));
}

export function errPalette(io: CliIO): Palette {
  return palette(colorEnabled(io.stderr, io.env));
}

export const ExitCode = { ok: 0, failure: 1, usage: 2, pending: 2, interrupted: 130 } as const;

/** A failure the CLI reports as one message and an exit code, without a stack trace. */
export class CliError extends Error {
  constructor(
    message: string,
    readonly exitCode: number = ExitCode.failure,
    readonly hint?: string,
  ) {
    super(message);
  }
}
