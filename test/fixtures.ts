/**
 * A local HTTP file server for tests (the "internet" the downloader fetches
 * from). Routes are registered per test under unique prefixes; its
 * `host:port` is in the test stack's ALLOW_PRIVATE_URLS.
 */
import type { Server } from "bun";

export type Handler = (req: Request, server: Server<undefined>) => Response | Promise<Response | undefined> | undefined;

export interface Fixtures {
  port: number;
  /** origin, e.g. http://127.0.0.1:40001 */
  origin: string;
  /** Serves `handler` (or fixed bytes) at `path`; returns its full URL. */
  route(path: string, handler: Handler | Uint8Array | string, type?: string): string;
  /** Number of requests seen for `path`. */
  hits(path: string): number;
  stop(): void;
}

export function startFixtures(): Fixtures {
  const routes = new Map<string, Handler>();
  const counts = new Map<string, number>();
  const server = Bun.serve({
    hostname: "127.0.0.1",
    port: 0,
    idleTimeout: 0,
    async fetch(req, srv) {
      const path = new URL(req.url).pathname;
      counts.set(path, (counts.get(path) ?? 0) + 1);
      const h = routes.get(path);
      if (!h) return new Response("no such fixture", { status: 404 });
      return (await h(req, srv)) ?? new Response("", { status: 500 });
    },
  });
  const port = server.port!;
  const origin = `http://127.0.0.1:${port}`;
  return {
    port,
    origin,
    route(path, handler, type = "application/octet-stream") {
      if (typeof handler === "function") routes.set(path, handler);
      else {
        const body = handler;
        routes.set(path, () => new Response(body as BodyInit, { headers: { "content-type": type } }));
      }
      return origin + path;
    },
    hits: (path) => counts.get(path) ?? 0,
    stop: () => void server.stop(true),
  };
}
