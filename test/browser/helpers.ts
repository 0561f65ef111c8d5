/**
 * Helpers for the page tests: Debian's Chromium through playwright-core
 * (a missing browser fails with a clear message), slowed-down fixture files
 * so a job is visibly "in progress", and a small SSE client.
 */
import { afterAll, beforeAll } from "bun:test";
import { existsSync } from "node:fs";
import { chromium, type Browser } from "playwright-core";
import { ensurePackages } from "../../scripts/lib/install.ts";
import type { Handler } from "../fixtures.ts";
import { readSse, type SseEvent } from "../../scripts/submit/sse-reader.ts";

export const CHROMIUM = "/usr/bin/chromium";
const ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--disable-background-networking", "--disable-component-update", "--disable-sync", "--no-first-run"];

/**
 * Starts headless Chromium (playwright's launch gives it a new temporary
 * user-data dir, removed on close). Like `bun run start` does for RabbitMQ and
 * nginx, a missing Chromium is installed with apt as root, or the error says how.
 */
export async function launchChromium(): Promise<{ browser: Browser; close(): Promise<void> }> {
  if (!existsSync(CHROMIUM)) await ensurePackages(["chromium"], (s) => console.log(s));
  if (!existsSync(CHROMIUM))
    throw new Error(`Chromium is not installed at ${CHROMIUM}; the page tests need it (Debian: apt-get install chromium)`);
  const browser = await chromium.launch({ executablePath: CHROMIUM, args: ARGS });
  return { browser, close: () => browser.close().catch(() => {}) };
}

/** Launches Chromium before the file's tests and closes it after; returns a getter for the browser. */
export function useChromium(): () => Browser {
  let chrome: Awaited<ReturnType<typeof launchChromium>> | undefined;
  beforeAll(async () => {
    chrome = await launchChromium();
  }, 300_000);
  afterAll(async () => {
    await chrome?.close();
  });
  return () => chrome!.browser;
}

/**
 * A fixture that sends `bytes` in `chunks` pieces over about `ms`. (Bun.serve
 * drops Content-Length for streamed bodies, oven-sh/bun#10507, so the size is
 * unknown until the end: the page shows growing byte counts.)
 */
export function trickle(bytes: Uint8Array, type: string, ms: number, chunks = 20): Handler {
  return () => {
    const step = Math.ceil(bytes.length / chunks);
    const body = new ReadableStream<Uint8Array>({
      async start(c) {
        for (let i = 0; i < bytes.length; i += step) {
          c.enqueue(bytes.slice(i, i + step));
          await Bun.sleep(ms / chunks);
        }
        c.close();
      },
    });
    return new Response(body, { headers: { "content-type": type } });
  };
}

/**
 * A fixture that sends `first` at once, then one byte every 500 ms (so the
 * downloader's idle timeout never fires) until `release()`, then `rest`: the
 * job stays in progress exactly as long as a test needs it.
 */
export function gated(first: Uint8Array, rest: Uint8Array, type = "application/octet-stream"): { handler: Handler; release(): void } {
  let released = false;
  const handler: Handler = () =>
    new Response(
      new ReadableStream<Uint8Array>({
        async start(c) {
          c.enqueue(first);
          while (!released) {
            await Bun.sleep(500);
            c.enqueue(new Uint8Array(1));
          }
          c.enqueue(rest);
          c.close();
        },
      }),
      { headers: { "content-type": type } },
    );
  return { handler, release: () => void (released = true) };
}

/**
 * An SSE connection from the test process. Keep the returned client referenced
 * while it should stay connected: Bun's fetch closes the connection of a
 * response that is garbage-collected, which the server sees as the client
 * going away. `close()` is how a test hangs up on purpose.
 */
export async function sseClient(url: string) {
  const ac = new AbortController();
  const r = await fetch(url, { headers: { accept: "text/event-stream" }, signal: ac.signal });
  if (r.status !== 200 || !r.body) throw new Error(`${url}: HTTP ${r.status}`);
  const it = readSse(r.body);
  const seen: SseEvent[] = [];
  return {
    seen,
    /** Reads until `pred` matches (returns that event) or the stream ends (returns null). */
    async until(pred: (e: SseEvent) => boolean): Promise<SseEvent | null> {
      for (;;) {
        const n = await it.next();
        if (n.done) return null;
        seen.push(n.value);
        if (pred(n.value)) return n.value;
      }
    },
    /** Hangs up. */
    close(): void {
      ac.abort();
    },
  };
}
