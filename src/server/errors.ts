import { t, type TSchema } from "elysia";
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

const STATUS_TEXT: Record<number, string> = { 200: "OK", 201: "Created", 400: "Bad request", 401: "Missing or wrong API key", 404: "Not found", 409: "Conflict", 413: "Too large", 415: "Unsupported content", 507: "Disk full" };

/**
 * Response shapes for the OpenAPI document, from the same TypeBox schemas the handlers' return types
 * follow. They are documented rather than checked at run time: checking a 1000-item page on every call
 * costs more than the query itself.
 */
export function docResponses(responses: Record<number, TSchema>): Record<string, { description: string; content: { "application/json": { schema: any } } }> {
  return Object.fromEntries(
    Object.entries(responses).map(([code, schema]) => [
      code,
      { description: STATUS_TEXT[Number(code)] ?? "", content: { "application/json": { schema } } },
    ]),
  );
}

export const ERROR_RESPONSES = { 400: ErrorResponse, 401: ErrorResponse, 404: ErrorResponse };
