/**
 * @module health
 * A tiny internal HTTP server answering `GET /healthz` for processes that have
 * no other HTTP interface (downloader, clock), so `start` can wait for them.
 */
import type { Server } from "bun";

export function serveHealth(host: string, port: number, healthy: () => boolean): Server<undefined> {
  return Bun.serve({
    hostname: host,
    port,
    fetch(req) {
      if (new URL(req.url).pathname !== "/healthz") return new Response("not found", { status: 404 });
      return healthy() ? new Response("ok") : new Response("broker unreachable", { status: 503 });
    },
  });
}
