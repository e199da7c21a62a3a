/**
 * The web UI's files, imported as files so that `bun build --compile` embeds them in the binary.
 * Served by a catch-all route; public (no API key), like /healthz.
 */
import indexHtml from "../../web/index.html" with { type: "file" };
import appJs from "../../web/app.js" with { type: "file" };
import styleCss from "../../web/style.css" with { type: "file" };
import docsHtml from "../../web/docs.html" with { type: "file" };
import swaggerJs from "swagger-ui-dist/swagger-ui-bundle.js" with { type: "file" };
import swaggerCss from "swagger-ui-dist/swagger-ui.css" with { type: "file" };

export const WEB_ASSETS: Record<string, { path: string; type: string }> = {
  "/": { path: indexHtml as unknown as string, type: "text/html; charset=utf-8" },
  "/assets/app.js": { path: appJs, type: "text/javascript; charset=utf-8" },
  "/assets/style.css": { path: styleCss, type: "text/css; charset=utf-8" },
  "/docs": { path: docsHtml as unknown as string, type: "text/html; charset=utf-8" },
  "/docs/swagger-ui-bundle.js": { path: swaggerJs, type: "text/javascript; charset=utf-8" },
  "/docs/swagger-ui.css": { path: swaggerCss, type: "text/css; charset=utf-8" },
};
