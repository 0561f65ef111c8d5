/**
 * @module fetcher
 * Opens a URL for download, safely: every hop (the URL and each redirect) is
 * checked by `ssrf.ts`, and the request goes to the very address that was
 * checked. Bun's fetch is given a URL with the IP literal, the original
 * `Host` header and, for https, the original name as TLS `serverName` (SNI
 * and certificate check), so no second DNS lookup can happen. Returns the
 * 2xx response with its headers; the body is read by `transfer.ts`.
 */
import { STATUS_CODES } from "node:http";
import { DownloadFailed, RetryableDownload } from "../shared/errors.ts";
import { isConnectFailure, networkFailure } from "./reasons.ts";
import { checkedAddresses, effectivePort, literalAddress, parseHttpUrl, type Address, type Resolver } from "./ssrf.ts";
import type { HostSlot } from "./hostlimit.ts";
import { seconds, type Watchdog } from "./watchdog.ts";

export interface FetchOptions {
  resolver: Resolver;
  /** ALLOW_PRIVATE_URLS: lowercased `host:port` entries exempt from the private-address rule */
  allow: readonly string[];
  maxRedirects: number;
  /** time from starting a hop (DNS included) to its response headers */
  connectTimeoutMs: number;
  watchdog: Watchdog;
  /** extra trusted CA certificates (PEM), for tests with a local TLS server */
  ca?: string;
  /** the per-host limit's slot, moved to each hop's host before it is asked */
  slot?: HostSlot;
  /** extra request headers (a resumed download's Range and If-Range) */
  headers?: Record<string, string>;
  /** the longest Retry-After honoured */
  maxRetryAfterMs?: number;
}

export interface Opened {
  /** the final URL (after redirects) */
  url: URL;
  response: Response;
  /** Content-Length, or null when absent or not a number */
  size: number | null;
}

const REDIRECTS = new Set([301, 302, 303, 307, 308]);
/** Answers that may be different next time: retried. */
const PASSING = new Set([408, 425, 429, 500, 502, 503, 504]);

/** Retry-After as milliseconds (seconds or an HTTP date), capped; undefined if absent or unreadable. */
export function retryAfterMs(value: string | null, cap: number, now = Date.now()): number | undefined {
  if (!value) return undefined;
  const v = value.trim();
  const ms = /^\d+$/.test(v) ? Number(v) * 1000 : Date.parse(v) - now;
  return Number.isFinite(ms) ? Math.min(cap, Math.max(0, ms)) : undefined;
}
const USER_AGENT = "linkpack-downloader/0.1";

/** Follows redirects (at most `maxRedirects`, no loops) to a 2xx response, or throws `DownloadFailed`. */
export async function openUrl(text: string, o: FetchOptions): Promise<Opened> {
  let url = parseHttpUrl(text);
  url.hash = "";
  const seen = new Set<string>();
  for (let hop = 0; ; hop++) {
    seen.add(url.href);
    await o.slot?.hop(url.hostname, o.watchdog.signal).catch(() => Promise.reject(o.watchdog.reason));
    const res = await request(url, o);
    if (REDIRECTS.has(res.status)) {
      await res.body?.cancel().catch(() => {});
      const location = res.headers.get("location");
      if (!location) throw new DownloadFailed(`HTTP ${res.status} redirect without a Location header`);
      const next = parseHttpUrl(location, url);
      next.hash = "";
      if (seen.has(next.href)) throw new DownloadFailed("too many redirects (redirect loop)");
      if (hop >= o.maxRedirects) throw new DownloadFailed(`too many redirects (more than ${o.maxRedirects})`);
      url = next;
      continue;
    }
    if (res.status < 200 || res.status > 299) {
      await res.body?.cancel().catch(() => {});
      const why = `HTTP ${res.status} ${res.statusText || STATUS_CODES[res.status] || ""}`.trim();
      if (PASSING.has(res.status)) throw new RetryableDownload(why, retryAfterMs(res.headers.get("retry-after"), o.maxRetryAfterMs ?? 60_000));
      throw new DownloadFailed(why);
    }
    return { url, response: res, size: declaredSize(res.headers) };
  }
}

/**
 * The body's length from Content-Length, or null. A body sent with a
 * Content-Encoding (despite our `identity`) is decoded by fetch, so its
 * Content-Length (of the encoded bytes) says nothing about what we store.
 */
function declaredSize(h: Headers): number | null {
  const cl = h.get("content-length")?.trim();
  const encoding = h.get("content-encoding")?.trim().toLowerCase();
  if (encoding && encoding !== "identity") return null;
  return cl && /^\d+$/.test(cl) ? Number(cl) : null;
}

/** One hop: resolve and check, then try the checked addresses in order until one connects. */
async function request(url: URL, o: FetchOptions): Promise<Response> {
  o.watchdog.arm("headers", o.connectTimeoutMs, `no response from ${url.host} within ${seconds(o.connectTimeoutMs)}`, true);
  try {
    const addresses = await abortable(checkedAddresses(url, o.resolver, o.allow), o.watchdog);
    for (let i = 0; ; i++) {
      try {
        return await fetch(target(url, addresses[i]!), init(url, o));
      } catch (err) {
        if (o.watchdog.reason) throw o.watchdog.reason;
        if (i + 1 < addresses.length && isConnectFailure(err)) continue;
        throw networkFailure(err, url.hostname);
      }
    }
  } finally {
    o.watchdog.disarm("headers");
  }
}

/** The URL to connect to: same scheme, port, path and query, with the checked IP as host. */
export function target(url: URL, a: Address): string {
  const host = a.family === 6 ? `[${a.address}]` : a.address;
  return `${url.protocol}//${host}:${effectivePort(url)}${url.pathname}${url.search}`;
}

function init(url: URL, o: FetchOptions): BunFetchRequestInit {
  const headers: Record<string, string> = {
    host: url.host,
    "user-agent": USER_AGENT,
    accept: "*/*",
    "accept-encoding": "identity",
    ...o.headers,
  };
  if (url.username || url.password) {
    const user = `${unescape(url.username)}:${unescape(url.password)}`;
    headers.authorization = `Basic ${Buffer.from(user).toString("base64")}`;
  }
  const byName = url.protocol === "https:" && !literalAddress(url.hostname);
  const tls = { ...(byName ? { serverName: url.hostname } : {}), ...(o.ca ? { ca: o.ca } : {}) };
  return {
    method: "GET",
    headers,
    redirect: "manual",
    signal: o.watchdog.signal,
    proxy: false,
    // A connection goes to a checked address, so one kept open for the next request to the same
    // address and port is as safe as a new one, and saves a handshake per file. Not for https:
    // a kept TLS connection was verified for one name and could be handed a request for another.
    keepalive: url.protocol === "http:",
    ...(url.protocol === "https:" ? { tls } : {}),
  };
}

const unescape = (s: string) => {
  try {
    return decodeURIComponent(s);
  } catch {
    return s;
  }
};

/** Lets the watchdog interrupt a step that takes no signal (DNS resolution). */
function abortable<T>(p: Promise<T>, w: Watchdog): Promise<T> {
  if (w.reason) return Promise.reject(w.reason);
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(w.reason);
    w.signal.addEventListener("abort", onAbort, { once: true });
    p.then(resolve, reject).finally(() => w.signal.removeEventListener("abort", onAbort));
  });
}
