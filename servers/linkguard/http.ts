/**
 * @module linkguard/http
 * nginx's auth_request target. `/lease` gets the link's normalised path in
 * `X-Original-URI` and the client's method in `X-Original-Method`:
 * - not a GET (HEAD...): 204, nothing taken;
 * - GET of a free link: 204 with the lease token in `X-Lease` (nginx logs it);
 * - GET of a used or busy link: 401 with `X-Guard: used` or `busy` (nginx answers 410 or 409).
 * `GET /healthz`: 200.
 */
import type { LeaseStore } from "./leases.ts";

/** Paths nginx serves archives at: the only keys the guard keeps state for. */
const LINK_PATH = /^\/d\/[0-9a-f]{32}\/[0-9a-f]{32}\.zip$/;

/** The link key of an `X-Original-URI` value (query dropped), or null if it is not a link path. */
export function linkKey(uri: string | null): string | null {
  if (!uri) return null;
  const path = uri.split("?", 1)[0]!;
  return LINK_PATH.test(path) ? path : null;
}

export function guardHandler(store: Pick<LeaseStore, "take">, healthy: () => boolean = () => true): (req: Request) => Response {
  return (req) => {
    const { pathname } = new URL(req.url);
    if (pathname === "/healthz") return healthy() ? new Response("ok") : new Response("not ready", { status: 503 });
    if (pathname !== "/lease") return new Response("not found", { status: 404 });
    const key = linkKey(req.headers.get("x-original-uri"));
    if (key === null) return new Response("not a link", { status: 403 });
    const method = (req.headers.get("x-original-method") ?? req.method).toUpperCase();
    if (method !== "GET") return new Response(null, { status: 204 });
    const got = store.take(key);
    if (got.state === "granted") return new Response(null, { status: 204, headers: { "x-lease": got.token } });
    return new Response(null, { status: 401, headers: { "x-guard": got.state } });
  };
}
