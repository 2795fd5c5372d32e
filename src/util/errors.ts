// The CLI's few error classes; one catch in the CLI entry maps them to exit codes
// (0 ok, 1 failure, 2 usage or invalid input).

export class UsageError extends Error {
  readonly exitCode = 2;
}

export class InvalidInputError extends Error {
  readonly exitCode = 2;
}

export function exitCodeOf(err: unknown): number {
  if (err && typeof err === "object" && "exitCode" in err && typeof err.exitCode === "number") return err.exitCode;
  return 1;
}
