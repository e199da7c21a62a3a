import { AppError } from "../core/errors.ts";

export const MAX_PAGE_SIZE = 10_000;

/** A requested page size, checked (1 to MAX_PAGE_SIZE); `fallback` when none was asked for. */
export function pageSize(requested: number | undefined, fallback: number): number {
  if (requested === undefined) return fallback;
  if (!Number.isInteger(requested) || requested < 1 || requested > MAX_PAGE_SIZE)
    throw new AppError("VALIDATION_FAILED", `pageSize must be a whole number from 1 to ${MAX_PAGE_SIZE}`, 400, { field: "pageSize" });
  return requested;
}
