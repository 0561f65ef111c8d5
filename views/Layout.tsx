/**
 * The page frame shared by every page: styles, htmx and its SSE extension
 * (served by the web server itself, no CDN) and the small page script.
 */
import type { Child } from "hono/jsx";

/**
 * htmx: swap the form back in when the server re-rendered it (what was wrong
 * with the post, or a limit), not on other errors. No eval, no script tags
 * from swapped content, and no injected indicator `<style>` (the CSP allows
 * none; app.css styles `.htmx-indicator`).
 */
const HTMX_CONFIG = JSON.stringify({
  includeIndicatorStyles: false,
  allowEval: false,
  allowScriptTags: false,
  responseHandling: [
    { code: "204", swap: false },
    { code: "[23]..", swap: true },
    { code: "^(400|408|413|415|429|503)$", swap: true, error: false },
    { code: "[45]..", swap: false, error: true },
  ],
});

export function Layout(props: { title: string; now?: number; children: Child }) {
  return (
    <html lang="en">
      <head>
        <meta charset="utf-8" />
        <meta name="viewport" content="width=device-width, initial-scale=1" />
        <meta name="color-scheme" content="light dark" />
        <meta name="htmx-config" content={HTMX_CONFIG} />
        <title>{props.title}</title>
        <link rel="stylesheet" href="/static/app.css" />
        <script src="/static/htmx.min.js" defer></script>
        <script src="/static/sse.js" defer></script>
        <script src="/static/app.js" defer></script>
      </head>
      <body data-now={props.now ?? Date.now()}>
        <header class="top">
          <a class="brand" href="/">
            <span class="logo" aria-hidden="true">⇣</span> linkpack
          </a>
          <span class="tagline">many links in, one zip out</span>
        </header>
        {props.children}
        <footer class="foot">
          Files are fetched by the server and packed into one zip behind a signed, one-time link.
        </footer>
      </body>
    </html>
  );
}
