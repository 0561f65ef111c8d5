/**
 * @module origin
 * Where a request comes from. The Host check refuses every name the server
 * does not go by (ALLOWED_HOSTS): against DNS rebinding, where a hostile name
 * that resolves to 127.0.0.1 would make the attacker's page same-origin with
 * ours. The cross-site check refuses unsafe methods that another site's page
 * sent (CSRF), judged by the `Origin` and `Sec-Fetch-Site` headers browsers
 * add; a client that sends neither (curl, scripts) is no browser page and passes.
 */
import type { Context } from "hono";
import { createMiddleware } from "hono/factory";
import type { WebEnv } from "./conn.ts";
import { Refused } from "./refused.ts";

const HOST_HEADER = /^(?:\[([0-9a-f:.]+)\]|([a-z0-9._-]+))(?::\d*)?$/i;

/** The host name of a `Host` header: port dropped, IPv6 without brackets, lower case; null if it is none. */
export function hostName(host: string | undefined): string | null {
  const m = HOST_HEADER.exec(host ?? "");
  return m ? (m[1] ?? m[2]!).toLowerCase().replace(/\.$/, "") : null;
}

/** The request's `Host` (a request without one, as in `app.request()`, has its URL's). */
const hostOf = (c: Context) => c.req.header("host") ?? new URL(c.req.url).host;

/** Middleware: `421` for a `Host` whose name is not in `allowed`. Nothing is exempt. */
export function hostCheck(allowed: readonly string[]) {
  const names = new Set(allowed.map((h) => h.toLowerCase()));
  return createMiddleware<WebEnv>(async (c, next) => {
    const name = hostName(hostOf(c));
    if (name === null || !names.has(name))
      throw new Refused(421, `misdirected request: this server does not answer for the host name "${(name ?? hostOf(c)).slice(0, 100)}"`);
    await next();
  });
}

const UNSAFE = new Set(["POST", "PUT", "PATCH", "DELETE"]);

function originOf(url: string): string | null {
  try {
    return new URL(url).origin;
  } catch {
    return null;
  }
}

/**
 * True when a browser says the request comes from another site: a
 * `Sec-Fetch-Site` other than same-origin/none, or an `Origin` that is
 * neither `own` nor this scheme with the request's (already allowed) `Host`
 * (so a page opened at http://localhost:3000 may post to itself). An opaque
 * `Origin: null` is cross-site too, unless the browser itself vouches with
 * `Sec-Fetch-Site: same-origin`: under `Referrer-Policy: no-referrer` a
 * page's own plain form post carries `Origin: null`.
 */
function isCrossSite(h: { origin?: string; fetchSite?: string; host?: string }, own: string): boolean {
  if (h.fetchSite !== undefined && h.fetchSite !== "same-origin" && h.fetchSite !== "none") return true;
  if (h.origin === undefined) return false;
  if (h.origin === "null") return h.fetchSite !== "same-origin";
  const origin = h.origin.toLowerCase();
  return origin !== own && origin !== originOf(`${new URL(own).protocol}//${h.host ?? ""}`);
}

/** Middleware: `403` for an unsafe method sent cross-site (run after `hostCheck`). */
export function crossSiteCheck(webPublicUrl: string) {
  const own = new URL(webPublicUrl).origin;
  return createMiddleware<WebEnv>(async (c, next) => {
    const h = { origin: c.req.header("origin"), fetchSite: c.req.header("sec-fetch-site"), host: hostOf(c) };
    if (UNSAFE.has(c.req.method) && isCrossSite(h, own))
      throw new Refused(403, "cross-site request refused: only linkpack's own page may send this; open linkpack and submit the form there");
    await next();
  });
}
