/**
 * @module links
 * Helpers for tests of the signed link through the real nginx and link
 * guard: an archive placed where the compressor would put it, and raw
 * HTTP/1.1 requests that can stop reading, be cut off, or send any header.
 */
import { mkdirSync, writeFileSync } from "node:fs";
import { connect, type Socket } from "node:net";
import type { Config } from "../../servers/shared/config.ts";
import { newId } from "../../servers/shared/ids.ts";
import { archiveFile, archiveFolder, archiveUri, signLink } from "../../servers/shared/link.ts";
import { linkSecret } from "../../servers/shared/secrets.ts";
import { fetchLink } from "./jobs.ts";
import { until } from "./wait.ts";

export interface Placed {
  link: string;
  /** the link's path and query, for raw requests */
  target: string;
  uri: string;
  folder: string;
  id: string;
  expires: number;
  /** the archive on disk */
  file: string;
}

/** Puts `bytes` where the compressor would and signs a link valid for `ttl` seconds (negative: expired). */
export function place(config: Config, bytes: Uint8Array, ttl = 3600): Placed {
  const secret = linkSecret(config);
  const id = newId();
  const folder = archiveFolder(secret, id);
  const uri = archiveUri(folder, id);
  const file = archiveFile(config.ARCHIVES_DIR, uri);
  mkdirSync(`${config.ARCHIVES_DIR}/${folder}`, { recursive: true, mode: 0o755 });
  writeFileSync(file, bytes, { mode: 0o644 });
  const expires = Math.floor(Date.now() / 1000) + ttl;
  const link = signLink(config.PUBLIC_URL, uri, expires, secret);
  const u = new URL(link);
  return { link, target: u.pathname + u.search, uri, folder, id, expires, file };
}

/** `n` random bytes. */
export function random(n: number): Uint8Array {
  const b = new Uint8Array(n);
  for (let i = 0; i < n; i += 65536) crypto.getRandomValues(b.subarray(i, Math.min(n, i + 65536)));
  return b;
}

export interface RawResponse {
  status: number;
  headers: Record<string, string>;
  /** the body bytes received (all of them, or up to the cut) */
  body: Buffer;
}

export interface RawOptions {
  method?: string;
  /** extra header lines, e.g. { range: "bytes=10-" } */
  headers?: Record<string, string>;
  /** Host header (default: the link's host) */
  host?: string;
  /** destroy the socket once this many body bytes came */
  cutAfter?: number;
  /** read at about this many bytes per second (pausing the socket in between, never for long) */
  rate?: number;
  /** stop reading (the socket stays open) once this many body bytes came; `socket` is handed back */
  pauseAfter?: number;
  onPause?: (s: Socket) => void;
}

/** A raw HTTP/1.1 request to nginx (no URL normalisation, unlike fetch), `Connection: close`. */
export function raw(config: Config, target: string, o: RawOptions = {}): Promise<RawResponse> {
  return new Promise((resolve, reject) => {
    const s = connect({ host: config.HOST, port: config.NGINX_PORT });
    let buf = Buffer.alloc(0);
    let headEnd = -1;
    let done = false;
    let pausedOnce = false;
    const result = (): RawResponse => {
      const head = buf.subarray(0, headEnd < 0 ? buf.length : headEnd).toString("latin1");
      const [statusLine, ...lines] = head.split("\r\n");
      const headers: Record<string, string> = {};
      for (const l of lines) {
        const i = l.indexOf(":");
        if (i > 0) headers[l.slice(0, i).toLowerCase()] = l.slice(i + 1).trim();
      }
      return { status: Number(/^HTTP\/1\.1 (\d{3})/.exec(statusLine ?? "")?.[1] ?? 0), headers, body: headEnd < 0 ? Buffer.alloc(0) : buf.subarray(headEnd + 4) };
    };
    const finish = () => {
      if (done) return;
      done = true;
      resolve(result());
    };
    const host = o.host ?? new URL(config.PUBLIC_URL).host;
    const extra = Object.entries(o.headers ?? {}).map(([k, v]) => `${k}: ${v}\r\n`).join("");
    const t0 = Date.now();
    s.on("connect", () => s.write(`${o.method ?? "GET"} ${target} HTTP/1.1\r\nHost: ${host}\r\nConnection: close\r\n${extra}\r\n`));
    s.on("data", (d: Buffer) => {
      buf = Buffer.concat([buf, d]);
      if (headEnd < 0) headEnd = buf.indexOf("\r\n\r\n");
      const got = headEnd < 0 ? 0 : buf.length - headEnd - 4;
      if (o.cutAfter !== undefined && got >= o.cutAfter) {
        s.destroy();
        finish();
      } else if (o.pauseAfter !== undefined && got >= o.pauseAfter && !pausedOnce) {
        pausedOnce = true;
        s.pause();
        o.onPause?.(s);
      } else if (o.rate !== undefined) {
        const ahead = (got / o.rate) * 1000 - (Date.now() - t0);
        if (ahead > 0) {
          s.pause();
          setTimeout(() => s.resume(), ahead);
        }
      }
    });
    s.on("close", finish);
    s.on("error", (err) => (headEnd < 0 ? reject(err) : finish()));
  });
}

/**
 * Asks again while the answer is 409: the guard holds the previous GET's
 * lease until it has read from nginx's log how that GET ended, a moment
 * after the client saw it end.
 */
export function settled<R extends { status: number }>(ask: () => Promise<R>, ms = 30_000): Promise<R> {
  return until("an answer other than 409 (the previous download's lease to end)", async () => {
    const r = await ask();
    return r.status !== 409 && r;
  }, ms);
}

/** A GET through fetch, asked again while 409 (`settled`). */
export const getSettled = (link: string, init: RequestInit = {}, ms?: number) => settled(() => fetchLink(link, init), ms);
