/**
 * @module consumer
 * The one way linkpack consumes a queue. A server gives its queue, prefetch,
 * message parser, handler and what to do on giving up; this module decides
 * every ack and nack:
 *
 *   malformed (the parser throws)     → dead-lettered, logged
 *   handler resolves                  → acked (its output is safely written)
 *   handler throws                    → after a backoff, sent back to the
 *                                       queue's tail with its attempt count
 *                                       in a header; after `maxAttempts`,
 *                                       `giveUp` records the failure (then
 *                                       acked) or, without one, dead-lettered
 *   handler throws `Deferred`         → sent back, not counted (not now)
 *   the database is unreachable       → sent back after a pause, not counted
 *                                       (db.ts `storeUnavailable`): an outage
 *                                       costs time, never a job
 *   shutting down                     → no new deliveries; in-flight work may
 *                                       finish, then is aborted and sent back
 *                                       uncounted
 *   the process dies                  → the broker redelivers; a redelivery
 *                                       counts as an attempt, so a message
 *                                       that kills its consumer gives up too
 *
 * Attempts live in the message, so the count survives restarts. Messages
 * with the same `key` are handled one after another in this process (a
 * redelivery after a reconnect waits for the first copy).
 */
import type { ConfirmChannel, ConsumeMessage } from "amqplib";
import { backoffMs } from "./backoff.ts";
import type { Attachable } from "./broker.ts";
import { storeUnavailable } from "./db.ts";
import type { Logger } from "./log.ts";
import { InFlight } from "./shutdown.ts";
import { sleep } from "./sleep.ts";
import { RETRY_EXCHANGE, type WorkQueue } from "./topology.ts";

/** About how long a message waits before it is tried again while the database is unreachable. */
const STORE_RETRY_MS = 2000;

/** The header holding how many attempts at a message have failed. */
export const ATTEMPTS_HEADER = "x-linkpack-attempts";

/** Thrown by a handler that cannot take the message now: it goes back to the queue, not counted. */
export class Deferred extends Error {
  override name = "Deferred";
  constructor(readonly delayMs = 0) {
    super("deferred");
  }
}

export interface Delivery {
  /** this attempt's number, from 1 */
  attempt: number;
  maxAttempts: number;
  /** aborted on shutdown */
  signal: AbortSignal;
  /**
   * Whether the message is still this process's to settle: the channel it
   * came on is still the consumer's and the broker answers on it now. False
   * after a lost connection (the broker has given the message to another
   * consumer) or while this machine is cut off: then a handler must not
   * record a verdict a reachable consumer could have reached otherwise.
   */
  held(): Promise<boolean>;
}

/** How long `Delivery.held` waits for the broker's answer. */
const HELD_CHECK_MS = 5000;

export interface ConsumerSpec<T> {
  queue: WorkQueue;
  prefetch: number;
  log: Logger;
  /** checks the message; throws (a `MalformedMessage`) for one that is not for us */
  parse(body: Buffer): T;
  /** does the work; resolves once its output is safely written */
  handle(msg: T, d: Delivery): Promise<void>;
  /** makes a message's last failure durable (fail the file or the job); absent: dead-letter it */
  giveUp?(msg: T, err: unknown): Promise<void>;
  maxAttempts: number;
  /** the first retry waits about this long, each next one twice as long (backoff.ts) */
  retryBaseMs: number;
  key?(msg: T): string;
  /** log fields naming a message */
  describe(msg: T): Record<string, unknown>;
}

/** Attempts that failed before this delivery: the header's count, plus one if it was redelivered (its consumer died). */
function failedAttempts(m: Pick<ConsumeMessage, "fields" | "properties">): number {
  const n = Number(m.properties.headers?.[ATTEMPTS_HEADER] ?? 0);
  return (Number.isSafeInteger(n) && n > 0 ? n : 0) + (m.fields.redelivered ? 1 : 0);
}

export class Consumer<T> implements Attachable {
  private ch: ConfirmChannel | null = null;
  private tag: string | null = null;
  private readonly inflight = new InFlight();
  private readonly chains = new Map<string, Promise<void>>();
  private readonly stopping = new AbortController();

  constructor(private readonly spec: ConsumerSpec<T>) {}

  /** Messages being handled now. */
  get inFlight(): number {
    return this.inflight.size;
  }

  /** Whether a message with this `key` is being handled (or waits behind one) in this process. */
  isActive(key: string): boolean {
    return this.chains.has(key);
  }

  async attach(ch: ConfirmChannel): Promise<void> {
    if (this.stopping.signal.aborted) return;
    await ch.prefetch(this.spec.prefetch);
    const { consumerTag } = await ch.consume(this.spec.queue, (m) => {
      if (m === null) return this.spec.log.warn("consumer cancelled by the broker", { queue: this.spec.queue });
      void this.receive(m, ch);
    });
    this.ch = ch;
    this.tag = consumerTag;
  }

  detach(): void {
    this.ch = null;
    this.tag = null;
  }

  /** Stops intake, lets in-flight work finish for up to `drainMs`, then aborts the rest (sent back uncounted). */
  async stop(drainMs: number): Promise<void> {
    const { ch, tag } = this;
    if (ch && tag) await ch.cancel(tag).catch(() => {});
    await this.inflight.drain(drainMs);
    this.stopping.abort(new Error("shutting down"));
    await this.inflight.drain(5_000);
  }

  private async receive(m: ConsumeMessage, ch: ConfirmChannel): Promise<void> {
    const { spec } = this;
    let msg: T;
    try {
      msg = spec.parse(m.content);
    } catch (err) {
      spec.log.warn("malformed message dead-lettered", { queue: spec.queue, err, body: m.content.subarray(0, 200).toString("utf8") });
      return settle(ch, m, "dead");
    }
    const run = () => this.inflight.run(() => this.process(msg, m, ch));
    const key = spec.key?.(msg);
    if (key === undefined) return run();
    const next = (this.chains.get(key) ?? Promise.resolve()).then(run, run);
    this.chains.set(key, next);
    await next;
    if (this.chains.get(key) === next) this.chains.delete(key);
  }

  private async process(msg: T, m: ConsumeMessage, ch: ConfirmChannel): Promise<void> {
    const { spec } = this;
    const signal = this.stopping.signal;
    const failed = failedAttempts(m);
    if (failed >= spec.maxAttempts) return this.giveUp(msg, m, ch, new Error(`its consumer stopped during ${failed} attempts`));
    try {
      await spec.handle(msg, { attempt: failed + 1, maxAttempts: spec.maxAttempts, signal, held: () => this.held(ch) });
      settle(ch, m, "ack");
    } catch (err) {
      if (signal.aborted) return this.sendBack(ch, m, failed, "shutting down: sent back");
      if (err instanceof Deferred) {
        await sleep(err.delayMs, signal);
        return this.sendBack(ch, m, failed, null);
      }
      if (storeUnavailable(err)) {
        spec.log.warn("the database is unreachable; will retry, not counted", { queue: spec.queue, ...spec.describe(msg), err });
        await sleep(backoffMs(1, STORE_RETRY_MS), signal);
        return this.sendBack(ch, m, failed, null);
      }
      const n = failed + 1;
      if (n >= spec.maxAttempts) return this.giveUp(msg, m, ch, err);
      const delay = backoffMs(n, spec.retryBaseMs);
      spec.log.warn("attempt failed; will retry", { queue: spec.queue, ...spec.describe(msg), attempt: n, of: spec.maxAttempts, delayMs: delay, err });
      await sleep(delay, signal);
      return this.sendBack(ch, m, n, null);
    }
  }

  /** See `Delivery.held`: a passive check of the queue on the delivering channel, answered in time. */
  private async held(ch: ConfirmChannel): Promise<boolean> {
    if (this.ch !== ch) return false;
    let timer: Timer | undefined;
    const late = new Promise<false>((resolve) => (timer = setTimeout(() => resolve(false), HELD_CHECK_MS)));
    try {
      return await Promise.race([ch.checkQueue(this.spec.queue).then(() => this.ch === ch, () => false), late]);
    } finally {
      clearTimeout(timer);
    }
  }

  /** Republishes the message to its queue's tail with `failed` in its header, then acks it; on failure the broker keeps it. */
  private async sendBack(ch: ConfirmChannel, m: ConsumeMessage, failed: number, note: string | null): Promise<void> {
    if (note) this.spec.log.info(note, { queue: this.spec.queue });
    const headers = { ...m.properties.headers, [ATTEMPTS_HEADER]: failed };
    try {
      await new Promise<void>((resolve, reject) =>
        ch.publish(RETRY_EXCHANGE, this.spec.queue, m.content, { persistent: true, contentType: m.properties.contentType, headers }, (err) => (err ? reject(err) : resolve())),
      );
      settle(ch, m, "ack");
    } catch {
      settle(ch, m, "requeue");
    }
  }

  private async giveUp(msg: T, m: ConsumeMessage, ch: ConfirmChannel, err: unknown): Promise<void> {
    const { spec } = this;
    const fields = { queue: spec.queue, ...spec.describe(msg), attempts: spec.maxAttempts, err, stack: (err as Error)?.stack };
    if (!spec.giveUp) {
      spec.log.error("giving up; dead-lettered", fields);
      return settle(ch, m, "dead");
    }
    try {
      await spec.giveUp(msg, err);
      spec.log.error("gave up", fields);
      settle(ch, m, "ack");
    } catch (err2) {
      spec.log.error("could not record giving up; the message stays queued", { ...fields, err2 });
      await sleep(backoffMs(spec.maxAttempts, spec.retryBaseMs), this.stopping.signal);
      settle(ch, m, "requeue");
    }
  }
}

/** Acks/nacks `m` on `ch`, ignoring a channel that has since closed (the broker then redelivers). */
function settle(ch: ConfirmChannel, m: ConsumeMessage, outcome: "ack" | "requeue" | "dead"): void {
  try {
    if (outcome === "ack") ch.ack(m);
    else ch.nack(m, false, outcome === "requeue");
  } catch {
    /* channel gone: the broker redelivers the message */
  }
}
