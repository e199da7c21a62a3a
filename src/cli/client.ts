import { AppError, type ErrorBody } from "../core/errors.ts";

export type Query = Record<string, string | number | boolean | undefined>;

/** The CLI's HTTP client: adds the API key, turns error bodies into AppErrors with the server's message. */
export class ApiClient {
  constructor(
    readonly baseUrl: string,
    private readonly apiKey: string | undefined,
  ) {}

  url(path: string, query: Query = {}): string {
    const u = new URL(path, this.baseUrl.endsWith("/") ? this.baseUrl : this.baseUrl + "/");
    for (const [k, v] of Object.entries(query)) if (v !== undefined) u.searchParams.set(k, String(v));
    return u.toString();
  }

  async request(method: string, path: string, init: { query?: Query; json?: unknown; body?: RequestInit["body"]; headers?: Record<string, string> } = {}): Promise<Response> {
    const headers: Record<string, string> = { ...init.headers };
    if (this.apiKey) headers.authorization = `Bearer ${this.apiKey}`;
    let body = init.body;
    if (init.json !== undefined) {
      headers["content-type"] = "application/json";
      body = JSON.stringify(init.json);
    }
    let response: Response;
    try {
      response = await fetch(this.url(path, init.query), { method, headers, body, ...(body instanceof ReadableStream ? { duplex: "half" } : {}) } as RequestInit);
    } catch (e) {
      throw new AppError(
        "SERVER_UNREACHABLE",
        `Cannot reach the vbatch server at ${this.baseUrl} (${(e as Error).message}); start one with 'vbatch serve' or set VBATCH_API_URL`,
        503,
      );
    }
    if (!response.ok) throw await errorFrom(response);
    return response;
  }

  async json<T>(method: string, path: string, init: { query?: Query; json?: unknown; body?: RequestInit["body"]; headers?: Record<string, string> } = {}): Promise<T> {
    const response = await this.request(method, path, init);
    return (await response.json()) as T;
  }

  /** Follows nextPageToken until the end (or `limit` items). */
  async *pages<T>(path: string, key: string, query: Query = {}, limit = Infinity): AsyncGenerator<T> {
    let pageToken: string | undefined;
    let seen = 0;
    do {
      const pageSize = Math.min(1000, limit - seen);
      const page = await this.json<Record<string, unknown>>("GET", path, { query: { ...query, pageSize, pageToken } });
      for (const item of page[key] as T[]) {
        yield item;
        if (++seen >= limit) return;
      }
      pageToken = page.nextPageToken as string | undefined;
    } while (pageToken);
  }
}

async function errorFrom(response: Response): Promise<AppError> {
  const text = await response.text().catch(() => "");
  try {
    const body = JSON.parse(text) as ErrorBody;
    if (body?.error?.message) return new AppError(body.error.code, body.error.message, response.status, body.error.details);
  } catch {}
  return new AppError("HTTP_ERROR", `The server answered HTTP ${response.status}${text ? `: ${text.slice(0, 200)}` : ""}`, response.status);
}
