/**
 * @module bridge
 * The STOMP-to-SSE bridge behind `GET /jobs/<id>/events`. One `JobFeed` per
 * watched job (created by its first client, ended by its last), all fed by
 * the process's single STOMP connection (`StompHub`) and by the job store
 * (its changes in this process, and a re-read about every second, for what
 * other web processes folded into a shared store).
 *
 * Each stream starts with the job's full current state, so a late or
 * reconnecting client loses nothing; `Last-Event-ID` is honoured in that
 * sense: every event carries the feed's version as its id, and a client that
 * reconnects gets the whole state again (every part is a full replacement, so
 * repeating is harmless). A client whose last event was the final `done`
 * (id "done") gets 204, which tells an EventSource to stop reconnecting.
 *
 * Flavours: the page's HTML fragments (default, event names = the page's
 * swap targets) or `?format=json` (event `job` with the JobView, `clock`,
 * `done`) for the terminal client and scripts.
 *
 * Open streams are capped per process and per client (`Slots`, counted here
 * only): beyond either, `503` with `Retry-After`. A stream is exempt from the
 * server's idle timeout, which would otherwise cut it after a quiet spell.
 */
import type { Context } from "hono";
import { isFinal, type JobView } from "../shared/jobstate.ts";
import type { Logger } from "../shared/log.ts";
import { keepOpen, type WebEnv } from "./conn.ts";
import { DONE_ID, doneMessage, fullState, JobFeed, type FeedClient, type FeedDeps, type Flavour } from "./feed.ts";
import { Refused } from "./refused.ts";
import { Slots } from "./slots.ts";
import { SseStream } from "./sse.ts";
import type { StompHub } from "./stomp.ts";
import type { JobStore } from "./store.ts";

export interface BridgeDeps {
  hub: Pick<StompHub, "subscribe">;
  /** checks each live event before it is shown (see FeedDeps) */
  parseEvent?: FeedDeps["parseEvent"];
  store: Pick<JobStore, "get" | "onChange">;
  log: Logger;
  /** batching window for progress updates */
  flushMs?: number;
  /** how often each feed re-reads its unfinished job from the store (default 1 s) */
  refreshMs?: number;
  heartbeatMs?: number;
  /** most open streams in this process, and per client (default: no cap) */
  maxStreams?: number;
  maxStreamsPerClient?: number;
}

/** What a client refused a stream is told to wait, in seconds. */
const STREAM_RETRY_SECONDS = 10;

export class Bridge {
  private readonly feeds = new Map<string, JobFeed>();
  private readonly streams = new Set<SseStream>();
  private readonly slots: Slots;
  private lastTick: { at: number; epochMs: number } | null = null;
  private readonly offStore: () => void;

  constructor(private readonly deps: BridgeDeps) {
    this.slots = new Slots(deps.maxStreams ?? Infinity, deps.maxStreamsPerClient ?? Infinity);
    this.offStore = deps.store.onChange((job) => this.feeds.get(job.id)?.absorb(job));
  }

  /** Connected SSE clients. */
  get clients(): number {
    return this.slots.size;
  }

  /** The server clock: the last tick, advanced by the time since it came. */
  now(): number {
    const t = this.lastTick;
    return t && Date.now() - t.at < 5000 ? t.epochMs + (Date.now() - t.at) : Date.now();
  }

  /** The route handler (`WebDeps.events`); `client` is who the stream counts against. */
  events = (c: Context<WebEnv>, job: JobView, client: string): Response => {
    const flavour: Flavour = c.req.query("format") === "json" ? "json" : "html";
    if (isFinal(job.state) && c.req.header("last-event-id") === DONE_ID) return new Response(null, { status: 204 });
    const slot = this.slots.take(client);
    if (!slot.ok)
      throw new Refused(
        503,
        slot.full === "total"
          ? "linkpack is busy: too many open event streams; try again in a little while"
          : `too many open event streams from your address (at most ${this.slots.maxPerKey}); close other linkpack pages and try again`,
        STREAM_RETRY_SECONDS,
      );
    keepOpen(c);
    let feed: JobFeed | undefined;
    let watcher: FeedClient | undefined;
    let stream: SseStream | undefined; // unset while the constructor runs (it may close at once)
    stream = new SseStream({
      signal: c.req.raw.signal,
      heartbeatMs: this.deps.heartbeatMs,
      onClose: () => {
        slot.release();
        if (stream) this.streams.delete(stream);
        if (watcher) feed?.remove(watcher);
      },
    });
    if (stream.closed) return stream.response;
    this.streams.add(stream);
    watcher = { flavour, ready: false, stream };
    if (isFinal(job.state)) {
      // Nothing will change: the state and the end, no subscription.
      for (const m of fullState(job, flavour, this.now(), "0")) stream.send(m);
      stream.send(doneMessage(job, flavour));
      stream.close();
      return stream.response;
    }
    feed = this.feeds.get(job.id);
    if (feed) feed.absorb(job);
    else feed = this.open(job);
    feed.add(watcher);
    return stream.response;
  };

  private open(job: JobView): JobFeed {
    const feed: JobFeed = new JobFeed(job, {
      hub: this.deps.hub,
      parseEvent: this.deps.parseEvent,
      store: this.deps.store,
      log: this.deps.log,
      flushMs: this.deps.flushMs ?? 100,
      refreshMs: this.deps.refreshMs ?? 1000,
      now: () => this.now(),
      onTick: (epochMs) => {
        if (!this.lastTick || this.lastTick.epochMs !== epochMs) this.lastTick = { at: Date.now(), epochMs };
      },
      onEnd: () => {
        if (this.feeds.get(job.id) === feed) this.feeds.delete(job.id);
      },
    });
    this.feeds.set(job.id, feed);
    return feed;
  }

  /** Ends every stream (clients reconnect elsewhere or later) and stops listening to the store. */
  close(): void {
    this.offStore();
    for (const s of [...this.streams]) s.close();
  }
}
