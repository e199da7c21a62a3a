import { AppError } from "../../core/errors.ts";
import type { BatchWriter } from "../../storage/batch-writer.ts";

/** A file the server fetches itself: `{"name","url"}` from a references JSONL file. */
export interface Reference {
  name: string;
  url: string;
}

export interface FetchLimits {
  timeoutMs: number;
  maxRedirects: number;
  concurrency: number;
}

/**
 * Fetches each reference into the batch through the writer (so names, sizes and content are checked as
 * for uploads). Limits: a time limit per URL (whole transfer), a redirect limit (followed by hand so that
 * each hop is checked to be http(s)), and the writer's size limit, enforced while bytes arrive. A failed
 * reference is rejected with its cause; the others go on.
 */
export async function fetchReferences(refs: Reference[], writer: BatchWriter, limits: FetchLimits): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < refs.length) {
      const ref = refs[next++]!;
      await fetchOne(ref, writer, limits);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limits.concurrency, refs.length) }, worker));
}

async function fetchOne(ref: Reference, writer: BatchWriter, limits: FetchLimits): Promise<void> {
  const file = writer.begin(ref.name);
  if (file.error) return;
  const signal = AbortSignal.timeout(limits.timeoutMs);
  try {
    const response = await follow(ref.url, limits.maxRedirects, signal);
    const declared = Number(response.headers.get("content-length") ?? NaN);
    if (Number.isFinite(declared) && declared > writer.opts.maxBytes) {
      await response.body?.cancel().catch(() => {});
      throw new AppError("FILE_TOO_LARGE", `'${ref.url}' is ${declared} bytes, over the limit of ${writer.opts.maxBytes}`, 413);
    }
    for await (const chunk of response.body!) {
      file.write(chunk);
      if (file.error) {
        await response.body?.cancel().catch(() => {});
        return;
      }
    }
    file.end();
  } catch (e) {
    file.reject(
      e instanceof AppError
        ? e
        : signal.aborted
          ? new AppError("REFERENCE_TIMEOUT", `Fetching '${ref.url}' took longer than ${limits.timeoutMs / 1000} s`, 504)
          : new AppError("REFERENCE_FETCH_FAILED", `Fetching '${ref.url}' failed: ${(e as Error).message}`, 502),
    );
  }
}

async function follow(url: string, maxRedirects: number, signal: AbortSignal): Promise<Response> {
  let current = url;
  for (let hop = 0; ; hop++) {
    let parsed: URL;
    try {
      parsed = new URL(current);
    } catch {
      throw new AppError("INVALID_REFERENCE", `'${current}' is not a valid URL`, 400);
    }
    if (parsed.protocol !== "http:" && parsed.protocol !== "https:")
      throw new AppError("INVALID_REFERENCE", `'${current}' is not an http(s) URL`, 400);
    const response = await fetch(parsed, { redirect: "manual", signal });
    if (response.status >= 300 && response.status < 400 && response.headers.has("location")) {
      await response.body?.cancel().catch(() => {});
      if (hop >= maxRedirects)
        throw new AppError("TOO_MANY_REDIRECTS", `'${url}' redirected more than ${maxRedirects} times`, 502);
      current = new URL(response.headers.get("location")!, parsed).toString();
      continue;
    }
    if (!response.ok) {
      await response.body?.cancel().catch(() => {});
      throw new AppError("REFERENCE_FETCH_FAILED", `'${current}' answered HTTP ${response.status}`, 502, { status: response.status });
    }
    if (!response.body) throw new AppError("REFERENCE_FETCH_FAILED", `'${current}' sent no body`, 502);
    return response;
  }
}
