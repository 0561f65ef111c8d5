/**
 * @module fixtures
 * The "internet" the downloader fetches from in tests: a local HTTP file
 * server whose `host:port` is in the test stack's ALLOW_PRIVATE_URLS, with
 * routes registered per test under unique prefixes; responses that trickle
 * (a slow server) or are held back until the test lets them go; and the
 * test photos.
 */
import type { Server } from "bun";
import { photoSet, type Photo } from "../../scripts/lib/samples.ts";

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

/**
 * A slow server: sends `bytes` in `chunks` pieces spread over about `ms`
 * (so a job is "mid-way" for a while). Bun.serve drops Content-Length for
 * streamed bodies (oven-sh/bun#10507), so the size is unknown until the
 * end: the page shows growing byte counts.
 */
export function trickle(bytes: Uint8Array, ms: number, chunks = 10, type = "application/octet-stream"): Handler {
  return () => {
    const size = Math.ceil(bytes.length / chunks);
    let i = 0;
    const body = new ReadableStream<Uint8Array>({
      async pull(c) {
        if (i * size >= bytes.length) return c.close();
        if (i > 0) await Bun.sleep(ms / chunks);
        c.enqueue(bytes.slice(i * size, (i + 1) * size));
        i++;
      },
    });
    return new Response(body, { headers: { "content-type": type } });
  };
}

/**
 * Responses held back until `release()`: each sends `first` at once, then
 * one byte every 500 ms (so the downloader's idle timeout never fires),
 * and after the release `rest`. A job stays in progress exactly as long as
 * a test needs it. Counts the responses open now and at most at once.
 */
export function held(first: Uint8Array = new Uint8Array(1000).fill(1), rest: Uint8Array = new Uint8Array(1000).fill(2)) {
  let released = false;
  let open = 0;
  let peak = 0;
  const handler: Handler = () => {
    open++;
    peak = Math.max(peak, open);
    let closed = false;
    const close = () => {
      if (!closed) (closed = true), open--;
    };
    return new Response(
      new ReadableStream<Uint8Array>({
        async start(c) {
          c.enqueue(first);
          while (!released) {
            await Bun.sleep(500);
            c.enqueue(new Uint8Array(1));
          }
          c.enqueue(rest);
          c.close();
          close();
        },
        cancel: close,
      }),
      { headers: { "content-type": "application/octet-stream" } },
    );
  };
  return {
    handler,
    release: () => void (released = true),
    /** responses being sent now */
    get open() {
      return open;
    },
    /** the most sent at once */
    get peak() {
      return peak;
    },
  };
}

let cached: Photo[] | null = null;
/** The 10 test photos (scripts/lib/samples.ts `photoSet`, generated once per run). */
export function photos(): Photo[] {
  return (cached ??= photoSet());
}

/** Serves the photos under a unique prefix; returns their URLs in order. */
export function servePhotos(fixtures: Fixtures, prefix: string): string[] {
  return photos().map((p) => fixtures.route(`/${prefix}/${p.name}`, p.bytes, p.type));
}
