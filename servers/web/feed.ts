/**
 * @module feed
 * One job's live feed inside the SSE bridge: the job's current view (store
 * state read AFTER the STOMP subscription was confirmed, then every STOMP
 * event and store change folded in), and the SSE clients watching it.
 *
 * Only one web process folds a given event into the shared store; the
 * others learn of it from STOMP alone. An event published before this feed
 * subscribed, but folded by another process after this one read the store,
 * would be missed for good, so while the job is unfinished the feed reads
 * the store again every `refreshMs` (about a second) and merges what it
 * finds: every web process converges within that. Changes
 * are batched for `flushMs` and each changed page part is rendered once, then
 * written to every client; the end (link or failure) is sent at once, followed
 * by `done`, and every stream is closed. After a STOMP reconnect (events
 * published meanwhile never came) the feed reads the store again once the
 * new subscription is confirmed and sends every client the full state.
 */
import { applyEvent, isFinal, type JobView } from "../shared/jobstate.ts";
import { MalformedMessage } from "../shared/errors.ts";
import type { Logger } from "../shared/log.ts";
import { parseProgressEvent, type ProgressEvent } from "../shared/messages.ts";
import { keys, stompDestination } from "../shared/topology.ts";
import { allParts, renderPart } from "../../views/fragments.tsx";
import { partName } from "../../views/parts.ts";
import { changedParts, mergeJob } from "./merge.ts";
import type { SseMessage, SseStream } from "./sse.ts";
import type { StompHub } from "./stomp.ts";

export type Flavour = "html" | "json";
export interface FeedClient {
  stream: SseStream;
  flavour: Flavour;
  ready: boolean;
}

/** The id of the last event of a finished job's stream (a client reconnecting with it gets 204: stop). */
export const DONE_ID = "done";

/** Everything a client needs to show `job` from scratch. */
export function fullState(job: JobView, flavour: Flavour, now: number, id: string): SseMessage[] {
  if (flavour === "json") return [{ event: "job", data: JSON.stringify(job), id }];
  return allParts(job).map((name) => ({ event: name, data: renderPart(name, job, now), id }));
}

/** The final event. */
export function doneMessage(job: JobView, flavour: Flavour): SseMessage {
  return { event: partName.done, data: flavour === "json" ? JSON.stringify(job) : job.state, id: DONE_ID };
}

export interface FeedDeps {
  hub: Pick<StompHub, "subscribe">;
  /** checks a live event (progressfold's `checkedEvent`: a link event only with its job's true link); throws MalformedMessage */
  parseEvent?: (body: string) => ProgressEvent;
  store: { get(id: string): Promise<JobView | null> };
  log: Logger;
  /** the server clock (last tick) */
  now(): number;
  onTick(epochMs: number): void;
  /** called once when the feed ends (no clients left, or the job finished) */
  onEnd(): void;
  flushMs: number;
  /** how often the store is read again while the job is unfinished */
  refreshMs: number;
}

export class JobFeed {
  private clients = new Set<FeedClient>();
  private pending = new Set<string>();
  private timer: Timer | undefined;
  private refresher: Timer | undefined;
  private refreshing = false;
  private version = 0;
  private unsubs: (() => void)[] = [];
  private started = false;
  private ended = false;

  constructor(
    public view: JobView,
    private readonly deps: FeedDeps,
  ) {
    void this.start();
  }

  get size(): number {
    return this.clients.size;
  }

  add(c: FeedClient): void {
    if (this.ended || c.stream.closed) return void c.stream.close();
    this.clients.add(c);
    if (this.started) this.greet(c);
  }

  remove(c: FeedClient): void {
    this.clients.delete(c);
    if (this.clients.size === 0) this.end();
  }

  /** Folds in a newer view from the job store (it catches up on what STOMP missed). */
  absorb(job: JobView): void {
    this.update(mergeJob(this.view, job));
  }

  private async start(): Promise<void> {
    const id = this.view.id;
    // Subscribe first, then read the store: an event is either in the store's view or arrives after.
    const subs = await Promise.all([
      this.deps.hub.subscribe(stompDestination(keys.jobAll(id)), (b) => this.onJobMessage(b), () => void this.resume()),
      this.deps.hub.subscribe(stompDestination(keys.clock), (b) => this.onClockMessage(b)),
    ]);
    this.unsubs = subs;
    if (this.ended) return this.release();
    let stored: JobView | null = null;
    try {
      stored = await this.deps.store.get(id);
    } catch (err) {
      this.deps.log.warn("reading the job store failed; the feed starts from the page's view", { job: id, err });
    }
    if (this.ended) return this.release();
    this.started = true;
    if (stored) this.view = mergeJob(this.view, stored);
    this.pending.clear();
    for (const c of this.clients) this.greet(c);
    if (isFinal(this.view.state)) return this.end();
    this.refresher = setInterval(() => this.refresh(), this.deps.refreshMs);
  }

  /** Reads the store again (one read at a time) and folds in what another web process folded there. */
  private refresh(): void {
    if (this.refreshing || this.ended) return;
    this.refreshing = true;
    this.deps.store
      .get(this.view.id)
      .then(
        (job) => job && this.absorb(job),
        (err) => this.deps.log.warn("re-reading the job store failed", { job: this.view.id, err }),
      )
      .finally(() => (this.refreshing = false));
  }

  /** The job's subscription was confirmed again after a reconnect: re-read the store, greet every client afresh. */
  private async resume(): Promise<void> {
    if (!this.started || this.ended) return;
    const stored = await this.deps.store.get(this.view.id).catch((err) => {
      this.deps.log.warn("re-reading the job store failed; the clients get the feed's view", { job: this.view.id, err });
      return null;
    });
    if (this.ended) return;
    if (stored) this.view = mergeJob(this.view, stored);
    clearTimeout(this.timer);
    this.timer = undefined;
    this.pending.clear();
    const id = String(++this.version);
    for (const c of [...this.clients]) if (c.ready) this.greet(c, id);
    if (isFinal(this.view.state)) this.end();
  }

  private greet(c: FeedClient, id = String(this.version)): void {
    c.ready = true;
    for (const m of fullState(this.view, c.flavour, this.deps.now(), id)) c.stream.send(m);
    if (isFinal(this.view.state)) {
      c.stream.send(doneMessage(this.view, c.flavour));
      c.stream.close();
    }
  }

  private onJobMessage(body: string): void {
    try {
      const ev = (this.deps.parseEvent ?? parseProgressEvent)(body);
      if (ev.type !== "clock") this.update(applyEvent(this.view, ev));
    } catch (err) {
      if (!(err instanceof MalformedMessage)) throw err;
      this.deps.log.warn("malformed progress event ignored", { job: this.view.id, err: err.message });
    }
  }

  private onClockMessage(body: string): void {
    let ev;
    try {
      ev = parseProgressEvent(body);
    } catch (err) {
      if (err instanceof MalformedMessage) return;
      throw err;
    }
    if (ev.type !== "clock" || !this.started) return;
    this.deps.onTick(ev.epochMs);
    let html: string | null = null;
    for (const c of this.clients) {
      if (!c.ready) continue;
      if (c.flavour === "json") c.stream.send({ event: partName.clock, data: JSON.stringify({ iso: ev.iso, epochMs: ev.epochMs }) });
      else c.stream.send({ event: partName.clock, data: (html ??= renderPart(partName.clock, this.view, ev.epochMs)) });
    }
  }

  private update(next: JobView): void {
    if (next === this.view || this.ended) return;
    const parts = changedParts(this.view, next);
    this.view = next;
    if (!this.started) return; // clients get the whole view when the feed starts
    for (const p of parts) this.pending.add(p);
    if (isFinal(next.state)) this.flush();
    else this.timer ??= setTimeout(() => this.flush(), this.deps.flushMs);
  }

  private flush(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    if (this.pending.size === 0 || this.ended) return;
    const id = String(++this.version);
    const now = this.deps.now();
    const names = [...this.pending];
    this.pending.clear();
    let html: SseMessage[] | null = null;
    let json: SseMessage | null = null;
    for (const c of this.clients) {
      if (!c.ready) continue;
      if (c.flavour === "json") c.stream.send((json ??= { event: "job", data: JSON.stringify(this.view), id }));
      else for (const m of (html ??= names.map((n) => ({ event: n, data: renderPart(n, this.view, now), id })))) c.stream.send(m);
    }
    if (isFinal(this.view.state)) {
      for (const c of [...this.clients]) {
        if (!c.ready) continue;
        c.stream.send(doneMessage(this.view, c.flavour));
        c.stream.close();
      }
      this.end();
    }
  }

  private end(): void {
    if (this.ended) return;
    this.ended = true;
    clearTimeout(this.timer);
    clearInterval(this.refresher);
    if (this.started) this.release();
    for (const c of [...this.clients]) c.stream.close();
    this.clients.clear();
    this.deps.onEnd();
  }

  private release(): void {
    for (const u of this.unsubs.splice(0)) u();
  }
}
