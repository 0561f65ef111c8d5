/**
 * @module static
 * The page's static files, served by the web server itself (no CDN, no build
 * step): htmx and its SSE extension from node_modules, the stylesheet and the
 * page script from views/static. Read once at start; ETag + no-cache so an
 * update is seen on the next load.
 */
import type { Env, Hono } from "hono";
import { readFileSync } from "node:fs";
import { resolve } from "node:path";

const VIEWS = resolve(import.meta.dir, "../../views/static");
const JS = "text/javascript; charset=utf-8";

/** URL path → [file, content type]. */
export const STATIC_FILES: Record<string, [string, string]> = {
  "/static/htmx.min.js": [Bun.resolveSync("htmx.org/dist/htmx.min.js", import.meta.dir), JS],
  "/static/sse.js": [Bun.resolveSync("htmx-ext-sse/dist/sse.min.js", import.meta.dir), JS],
  "/static/app.js": [`${VIEWS}/app.js`, JS],
  "/static/app.css": [`${VIEWS}/app.css`, "text/css; charset=utf-8"],
};

/** Mounts every static file on `app` (pass as `extend`). */
export function mountStatic<E extends Env>(app: Hono<E>): void {
  for (const [path, [file, type]] of Object.entries(STATIC_FILES)) {
    const body = readFileSync(file);
    const etag = `"${Bun.hash(body).toString(36)}"`;
    app.get(path, (c) => {
      const headers = { "content-type": type, etag, "cache-control": "no-cache" };
      if (c.req.header("if-none-match") === etag) return c.body(null, 304, headers);
      return c.body(body, 200, headers);
    });
  }
}
