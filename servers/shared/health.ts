/**
 * @module health
 * A tiny internal HTTP server for processes that have no other HTTP
 * interface (downloader, clock): `GET /healthz`, so `start` can wait for
 * them, and `GET /metrics` (Prometheus' text format).
 */
import type { Server } from "bun";
import { metricsResponse, type Metrics } from "./metrics.ts";

export function serveHealth(host: string, port: number, healthy: () => boolean, metrics: Metrics): Server<undefined> {
  return Bun.serve({
    hostname: host,
    port,
    fetch(req) {
      const path = new URL(req.url).pathname;
      if (path === "/metrics") return metricsResponse(metrics);
      if (path !== "/healthz") return new Response("not found", { status: 404 });
      return healthy() ? new Response("ok") : new Response("broker unreachable", { status: 503 });
    },
  });
}
