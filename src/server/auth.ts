import { createHash, timingSafeEqual } from "node:crypto";
import { AppError } from "../core/errors.ts";

const digest = (s: string) => createHash("sha256").update(s).digest();

/**
 * Checks `Authorization: Bearer <key>` or `?api_key=<key>` against the configured key (constant-time).
 * Paths for which `isPublic` answers true need nothing.
 */
export function makeAuthCheck(apiKey: string | undefined, isPublic: (path: string) => boolean) {
  if (!apiKey) return () => {};
  const expected = digest(apiKey);
  return (request: Request) => {
    const url = new URL(request.url);
    if (isPublic(url.pathname)) return;
    const header = request.headers.get("authorization") ?? "";
    const given = header.toLowerCase().startsWith("bearer ") ? header.slice(7).trim() : url.searchParams.get("api_key");
    if (!given || !timingSafeEqual(digest(given), expected))
      throw new AppError(
        "UNAUTHORIZED",
        given ? "The API key is wrong" : "An API key is required: send 'Authorization: Bearer <key>' or ?api_key=<key>",
        401,
      );
  };
}
