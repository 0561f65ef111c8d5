/**
 * @module ssrf
 * Decides whether a URL may be fetched at all: only http(s), and only to
 * public addresses. The host is resolved once here (every address it has is
 * judged) and the fetcher then connects to exactly these addresses, so a DNS
 * answer cannot change between the check and the connection. `host:port`
 * entries of ALLOW_PRIVATE_URLS are exempt from the private-address rule.
 */
import { lookup } from "node:dns/promises";
import { DownloadFailed, RetryableDownload } from "../shared/errors.ts";
import { blockedReason, parseIPv4, parseIPv6 } from "./ipaddr.ts";

export interface Address {
  address: string;
  family: 4 | 6;
}

/** Resolves a host name to all of its addresses (injectable so tests can map names). */
export type Resolver = (hostname: string) => Promise<Address[]>;

/** The system resolver (getaddrinfo, so /etc/hosts counts), every address. */
export const systemResolver: Resolver = async (hostname) =>
  (await lookup(hostname, { all: true, verbatim: true })).map((a) => ({ address: a.address, family: a.family === 6 ? 6 : 4 }));

/** The port a URL connects to, with the scheme's default filled in. */
export const effectivePort = (u: URL) => Number(u.port || (u.protocol === "https:" ? 443 : 80));

/** Parses and checks the scheme of a URL; the error says what is wrong in plain words. */
export function parseHttpUrl(text: string, base?: URL): URL {
  let u: URL;
  try {
    u = new URL(text, base);
  } catch {
    throw new DownloadFailed(base ? `invalid redirect location "${text.slice(0, 200)}"` : "not a valid URL");
  }
  if (u.protocol !== "http:" && u.protocol !== "https:") throw new DownloadFailed(`only http and https URLs can be downloaded, not ${u.protocol}`);
  if (!u.hostname) throw new DownloadFailed("URL has no host");
  return u;
}

/** An IP literal host (WHATWG URL parsing has already turned `127.1`, `0x7f000001`... into dotted quads). */
export function literalAddress(hostname: string): Address | null {
  if (parseIPv4(hostname)) return { address: hostname, family: 4 };
  if (hostname.startsWith("[") && parseIPv6(hostname)) return { address: hostname.slice(1, -1), family: 6 };
  return null;
}

const DNS_CODES = new Set(["ENOTFOUND", "EAI_NONAME", "EAI_AGAIN", "ENODATA", "EAI_FAIL", "ESERVFAIL", "ENONAME"]);

/**
 * Resolves `u`'s host and returns the addresses to connect to (IPv4 first),
 * or throws `DownloadFailed` when it cannot be resolved or any address is
 * private and `host:port` is not in `allow`.
 */
export async function checkedAddresses(u: URL, resolver: Resolver, allow: readonly string[]): Promise<Address[]> {
  const host = u.hostname;
  const literal = literalAddress(host);
  let addresses: Address[];
  if (literal) addresses = [literal];
  else {
    try {
      addresses = await resolver(host);
    } catch (err) {
      const code = (err as { code?: string }).code;
      if (code === "EAI_AGAIN") throw new RetryableDownload(`could not resolve host ${host} (the name server said: try again)`);
      if (code && !DNS_CODES.has(code)) throw new DownloadFailed(`could not resolve host ${host} (${code})`);
      throw new DownloadFailed(`could not resolve host ${host}`);
    }
    if (addresses.length === 0) throw new DownloadFailed(`could not resolve host ${host}`);
  }
  if (!allow.includes(`${host}:${effectivePort(u)}`.toLowerCase())) {
    for (const a of addresses) {
      const why = blockedReason(a.address);
      if (!why) continue;
      throw new DownloadFailed(literal ? `refused: ${a.address} is ${why}` : `refused: ${host} resolves to ${a.address}, ${why}`);
    }
  }
  return [...addresses].sort((a, b) => a.family - b.family);
}
