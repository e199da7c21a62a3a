import { t } from "elysia";
import { AppError, toAppError } from "../core/errors.ts";
import type { Logger } from "../core/log.ts";

export const ErrorResponse = t.Object({
  error: t.Object({ code: t.String(), message: t.String(), details: t.Optional(t.Record(t.String(), t.Unknown())) }),
});

interface ValidationLike {
  all?: { path?: string; message?: string; summary?: string }[];
  type?: string;
}

/** The one place errors become HTTP responses: `{"error":{code,message,details}}` with a fitting status. */
export function renderError(code: string | number, error: unknown, path: string, log: Logger): Response {
  let err: AppError;
  if (code === "NOT_FOUND") err = new AppError("NOT_FOUND", `No route for ${path}`, 404);
  else if (code === "VALIDATION") {
    const v = error as ValidationLike;
    const first = v.all?.[0];
    const on = (error as { type?: string }).type ?? "request";
    const field = first?.path?.replace(/^\//, "").replace(/\//g, ".") || undefined;
    err = new AppError(
      "VALIDATION_FAILED",
      `Invalid ${on}${field ? ` field '${field}'` : ""}: ${first?.summary ?? first?.message ?? "does not match the schema"}`,
      400,
      { on, ...(field ? { field } : {}) },
    );
  } else if (code === "PARSE") err = new AppError("INVALID_BODY", "The request body could not be parsed", 400);
  else err = toAppError(error);
  if (err.status >= 500) log.error("request failed", { path, code: err.code, message: err.message });
  return Response.json(err.toJSON(), { status: err.status });
}
