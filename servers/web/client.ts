/**
 * @module client
 * Who a request counts against for the per-client limits: the socket's
 * address, or, when that is a trusted proxy (TRUSTED_PROXIES), the right-most
 * `X-Forwarded-For` entry that is not itself a trusted proxy. Entries further
 * left are whatever the client wrote, so they are never believed.
 */
import { createMiddleware } from "hono/factory";
import { peerAddress, type WebEnv } from "./conn.ts";

/** One spelling per address: "::ffff:1.2.3.4" is 1.2.3.4. */
const plain = (ip: string) => ip.trim().toLowerCase().replace(/^::ffff:(\d+\.\d+\.\d+\.\d+)$/, "$1");

/** The client of a request from `peer` carrying `forwardedFor` (the X-Forwarded-For header). */
export function clientOf(peer: string, forwardedFor: string | undefined, trusted: ReadonlySet<string>): string {
  const p = plain(peer);
  if (!trusted.has(p)) return p;
  const hops = (forwardedFor ?? "").split(",").map(plain).filter(Boolean);
  for (let i = hops.length - 1; i >= 0; i--) if (!trusted.has(hops[i]!)) return hops[i]!.slice(0, 64);
  return p;
}

/** Whether `client` (as `clientOf` names it) is this machine. */
export const isLoopback = (client: string) => /^127\.\d+\.\d+\.\d+$/.test(client) || client === "::1";

/** Middleware: sets `c.var.client`. */
export function identifyClient(trustedProxies: readonly string[]) {
  const trusted = new Set(trustedProxies.map(plain));
  return createMiddleware<WebEnv>(async (c, next) => {
    c.set("client", clientOf(peerAddress(c), c.req.header("x-forwarded-for"), trusted));
    await next();
  });
}
