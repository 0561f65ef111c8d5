/**
 * @module events
 * What a test watches: the broker's progress events and dead letters
 * (each through an exclusive queue of the test's own, never a shared
 * queue), a page's event stream, and a part's log lines.
 */
import type { ConsumeMessage } from "amqplib";
import { connectFirst } from "../../servers/shared/broker.ts";
import type { Config } from "../../servers/shared/config.ts";
import { brokerUrl } from "../../servers/shared/brokerauth.ts";
import { parseProgressEvent, type ProgressEvent } from "../../servers/shared/messages.ts";
import type { Role } from "../../servers/shared/permissions.ts";
import { DEAD_EXCHANGE, PROGRESS_EXCHANGE } from "../../servers/shared/topology.ts";
import { readSse, type SseEvent } from "../../scripts/submit/sse-reader.ts";
import { publish } from "./broker.ts";
import { until } from "./wait.ts";

export interface Watch<T> {
  /** everything received so far, in arrival order */
  events: T[];
  /** messages received that could not be read */
  unreadable: number;
  /** Waits for an event matching `pred` (possibly received already) and returns it. */
  next(pred: (e: T) => boolean, what: string, ms?: number): Promise<T>;
  close(): Promise<void>;
}

const open = new Set<() => Promise<void>>();

/**
 * Closes every broker watcher still open. The preload runs it after each
 * test (a watcher lives for one test), so a test that failed before its own
 * `close()` leaves no queue behind to receive the next tests' messages.
 */
export async function closeWatchers(): Promise<void> {
  await Promise.all([...open].map((close) => close()));
}

/**
 * Receives what `exchange` routes by `patterns` into an exclusive queue of
 * this watcher's own. What `take` cannot read (a test's deliberately
 * malformed message) is counted in `unreadable`, not kept.
 */
async function listen<T>(config: Config, role: Role, exchange: string, patterns: string[], take: (m: ConsumeMessage) => T | null) {
  const { conn } = await connectFirst(brokerUrl(config, role));
  conn.on("error", () => {}); // a broker restart under a watcher ends it; its test sees the events stop
  const ch = await conn.createChannel();
  const { queue } = await ch.assertQueue("", { exclusive: true, autoDelete: true });
  for (const p of patterns) await ch.bindQueue(queue, exchange, p);
  const events: T[] = [];
  const w = {
    events,
    unreadable: 0,
    next: (pred: (e: T) => boolean, what: string, ms = 30_000) => until(what, () => events.find(pred), ms),
    async close() {
      open.delete(w.close);
      await conn.close().catch(() => {});
    },
  };
  open.add(w.close);
  await ch.consume(queue, (m) => {
    try {
      const e = m && take(m);
      if (e) events.push(e);
    } catch {
      w.unreadable++;
    }
  }, { noAck: true });
  return w satisfies Watch<T>;
}

export interface ProgressWatch extends Watch<{ key: string; ev: ProgressEvent }> {
  /**
   * Returns once every event the broker had accepted before this call is in
   * `events`: a marker published after them, on a routing key only this
   * watcher is bound to, has come back through the same queue.
   */
  sync(): Promise<void>;
}

/** Collects every progress event with a routing key matching `pattern` until `close()`. */
export async function watch(config: Config, pattern: string): Promise<ProgressWatch> {
  const syncKey = `test.sync.${crypto.randomUUID()}`;
  const marks = new Set<string>();
  const w = await listen(config, "observer", PROGRESS_EXCHANGE, [pattern, syncKey], (m) => {
    if (m.fields.routingKey !== syncKey) return { key: m.fields.routingKey, ev: parseProgressEvent(m.content) };
    marks.add(m.content.toString());
    return null;
  });
  return Object.assign(w, {
    async sync() {
      const mark = crypto.randomUUID();
      await publish(config, PROGRESS_EXCHANGE, syncKey, Buffer.from(mark));
      await until("the sync marker to come back", () => marks.has(mark));
    },
  });
}

/**
 * Collects every message dead-lettered from now on, through a queue of this
 * test's own bound to the dead-letter exchange (the shared dead-letter
 * queue is left alone). Tell a test's own messages apart by a marker.
 */
export function deadLetters(config: Config): Promise<Watch<ConsumeMessage>> {
  return listen(config, "tester", DEAD_EXCHANGE, [""], (m) => m);
}

export interface SseClient {
  response: Response;
  /** every event read so far */
  seen: SseEvent[];
  /** Reads on until an event matches `pred` and returns it; throws if the stream ends first. */
  next(pred: (e: SseEvent) => boolean): Promise<SseEvent>;
  /** Reads until the server ends the stream; returns the events read on the way. */
  end(): Promise<SseEvent[]>;
  /** Hangs up. */
  close(): void;
}

/**
 * An event-stream client: of a URL (from the test process), or of whatever
 * `open` answers (e.g. an in-process `app.request`). Keep the client
 * referenced while it should stay connected: Bun's fetch closes the
 * connection of a response that is garbage-collected, which the server
 * sees as the client going away. `close()` is how a test hangs up.
 */
export async function sseClient(open: string | ((signal: AbortSignal) => Response | Promise<Response>), headers: Record<string, string> = {}): Promise<SseClient> {
  const ac = new AbortController();
  const response =
    typeof open === "string" ? await fetch(open, { headers: { accept: "text/event-stream", ...headers }, signal: ac.signal }) : await open(ac.signal);
  if (response.status !== 200 || !response.body) throw new Error(`event stream: HTTP ${response.status}`);
  const it = readSse(response.body);
  const seen: SseEvent[] = [];
  const read = async (pred: (e: SseEvent) => boolean): Promise<SseEvent | null> => {
    for (;;) {
      const n = await it.next();
      if (n.done) return null;
      seen.push(n.value);
      if (pred(n.value)) return n.value;
    }
  };
  return {
    response,
    seen,
    async next(pred) {
      const e = await read(pred);
      if (!e) throw new Error(`the event stream ended; it sent ${seen.map((s) => s.event).join(", ")}`);
      return e;
    },
    async end() {
      const from = seen.length;
      await read(() => false);
      return seen.slice(from);
    },
    close: () => ac.abort(),
  };
}

export interface LogFollower {
  /** Waits for a line (after the follower's start) holding every one of `words`; returns it. */
  next(words: string[], ms?: number): Promise<string>;
  /** The lines written since the follower's start. */
  lines(): Promise<string[]>;
}

/** Follows `RUN_DIR/logs/<part>.log` from its current end (or, with `fromStart`, from its beginning). */
export function followLog(config: Config, part: string, fromStart = false): LogFollower {
  const file = () => Bun.file(`${config.RUN_DIR}/logs/${part}.log`);
  const from = fromStart ? 0 : file().size;
  const lines = async () => (await file().slice(from).text().catch(() => "")).split("\n").filter(Boolean);
  return {
    lines,
    next: (words, ms = 30_000) =>
      until(`a line with ${JSON.stringify(words)} in ${part}.log`, async () => (await lines()).find((l) => words.every((w) => l.includes(w))), ms),
  };
}

/** Waits until `RUN_DIR/logs/<part>.log` has a line holding every one of `words`; returns it. */
export const waitForLog = (config: Config, part: string, words: string[], ms?: number) => followLog(config, part, true).next(words, ms);
