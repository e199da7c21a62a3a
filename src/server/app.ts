import { Elysia } from "elysia";
import { openapi } from "@elysiajs/openapi";
import { VERSION } from "../core/version.ts";
import { makeAuthCheck } from "./auth.ts";
import { batchRoutes } from "./batches/routes.ts";
import type { ServerContext } from "./context.ts";
import { renderError } from "./errors.ts";
import { eventRoutes } from "./events/routes.ts";
import { jobRoutes } from "./jobs/routes.ts";
import { metricsRoutes } from "./metrics/routes.ts";
import { modelRoutes } from "./models/routes.ts";
import { workflowRoutes } from "./workflows/routes.ts";
import { WEB_ASSETS } from "./web-assets.ts";

const isPublic = (path: string) => path === "/healthz" || path in WEB_ASSETS;

/** The HTTP application. Tests call `app.handle(new Request(...))`; `serve` binds it to a port. */
export function createApp(ctx: ServerContext) {
  const checkAuth = makeAuthCheck(ctx.config.apiKey, isPublic);
  return new Elysia({ precompile: true })
    .onError(({ code, error, path }) => renderError(code, error, path, ctx.log))
    .onRequest(({ request }) => {
      checkAuth(request);
    })
    .use(
      openapi({
        path: "/docs",
        specPath: "/api/v1/openapi.json",
        provider: null,
        documentation: {
          info: {
            title: "vbatch API",
            version: VERSION,
            description:
              "Batch processing of images and videos with computer-vision workflows. When the server has an API key, " +
              "send it as `Authorization: Bearer <key>` (or `?api_key=<key>`). Errors are `{\"error\":{code,message,details}}`.",
          },
          components: { securitySchemes: { apiKey: { type: "http", scheme: "bearer" } } },
          security: [{ apiKey: [] }],
        },
        exclude: { paths: ["/", "/healthz", "/docs", /^\/(assets|docs)\//] },
      }),
    )
    .get("/healthz", () => ({ status: "ok", version: VERSION }))
    .use(batchRoutes(ctx))
    .use(modelRoutes(ctx))
    .use(workflowRoutes(ctx))
    .use(eventRoutes(ctx))
    .use(jobRoutes(ctx, ctx.scheduler, () => ctx.provider?.() ?? null))
    .use(metricsRoutes(ctx, () => ctx.localWorkers?.() ?? 0))
    .get("/", () => asset("/"))
    .get("/assets/*", ({ path }) => asset(path))
    .get("/docs", () => asset("/docs"))
    .get("/docs/*", ({ path }) => asset(path));
}

function asset(path: string): Response {
  const a = WEB_ASSETS[path];
  if (!a) return Response.json({ error: { code: "NOT_FOUND", message: `No route for ${path}` } }, { status: 404 });
  return new Response(Bun.file(a.path), { headers: { "content-type": a.type, "cache-control": "no-cache" } });
}
