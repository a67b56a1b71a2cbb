/** Exit codes of the `ndp-responder` command (public contract). */
export const ExitCode = { Ok: 0, Failure: 1, Usage: 2, Environment: 3 } as const;

/** A user-facing error: printed as one line to stderr, then the process exits with `exitCode`. */
export class UserError extends Error {
  constructor(
    message: string,
    readonly exitCode: number = ExitCode.Usage,
  ) {
    super(message);
    this.name = 'UserError';
  }
}
