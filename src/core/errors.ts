/**
 * One error type for the whole program. Every failure a user can see carries a stable SCREAMING_SNAKE
 * `code`, a message that names the problem, an HTTP status and optional details. The server renders it
 * as `{"error":{code,message,details}}`; the CLI prints `Command failed: <message>`.
 */
export class AppError extends Error {
  readonly code: string;
  readonly status: number;
  readonly details: Record<string, unknown> | undefined;

  constructor(code: string, message: string, status = 400, details?: Record<string, unknown>) {
    super(message);
    this.name = "AppError";
    this.code = code;
    this.status = status;
    this.details = details;
  }

  toJSON(): ErrorBody {
    return { error: { code: this.code, message: this.message, ...(this.details ? { details: this.details } : {}) } };
  }
}

export interface ErrorBody {
  error: { code: string; message: string; details?: Record<string, unknown> };
}

export const isAppError = (e: unknown): e is AppError => e instanceof AppError;

/** Node/Bun system errors that mean the disk is full or over quota. */
export function isDiskFull(e: unknown): boolean {
  const code = (e as { code?: string } | null)?.code;
  return code === "ENOSPC" || code === "EDQUOT";
}

/** Turns any thrown value into an AppError, keeping AppErrors as they are. */
export function toAppError(e: unknown): AppError {
  if (isAppError(e)) return e;
  if (isDiskFull(e)) return new AppError("DISK_FULL", "The disk holding the data directory is full", 507);
  const message = e instanceof Error ? e.message : String(e);
  return new AppError("INTERNAL", message || "Internal error", 500);
}

export const notFound = (what: string, id: string, code = "NOT_FOUND") =>
  new AppError(code, `${what} '${id}' was not found`, 404, { id });

export const invalid = (message: string, details?: Record<string, unknown>, code = "VALIDATION_FAILED") =>
  new AppError(code, message, 400, details);
