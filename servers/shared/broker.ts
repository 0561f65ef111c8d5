/**
 * @module broker
 * A recovering AMQP connection with one confirm channel, over one broker
 * node or several of a cluster. It connects to the first node of the list
 * that answers; when that connection dies it tries the next node first,
 * round the list, with backoff after each full round. Heartbeats every
 * HEARTBEAT_SECONDS, so a node that died without closing its sockets is
 * noticed in seconds. (amqplib's own recovery reopens one URL only, hence
 * this loop.)
 *
 * On every (re)connect it checks (passively: the servers' users may declare
 * nothing) that the topology it needs is there, then attaches the consumers
 * added to it (see consumer.ts). `open` resolves once the first channel is
 * ready, before anything is consumed. Publishing waits for the broker's
 * confirm and retries across reconnects, so a published message is never
 * silently lost.
 */
import amqp, { type ChannelModel, type ConfirmChannel } from "amqplib";
import { randomUUID } from "node:crypto";
import { checkTopology, type Needs } from "./topology.ts";
import type { Logger } from "./log.ts";

/** Heartbeat period asked of the broker: a silent connection is declared dead after about two of them. */
export const HEARTBEAT_SECONDS = 5;
/** How long opening a connection to one node may take before the next is tried. */
const CONNECT_TIMEOUT_MS = 5_000;

/** The comma-separated AMQP URLs as a list, each with the short heartbeat unless it names one. */
export function amqpUrls(urls: string | string[]): string[] {
  const list = (Array.isArray(urls) ? urls : urls.split(",")).map((u) => u.trim()).filter(Boolean);
  if (list.length === 0) throw new Error("no AMQP URL given");
  return list.map((u) => (u.includes("heartbeat=") ? u : `${u}${u.includes("?") ? "&" : "?"}heartbeat=${HEARTBEAT_SECONDS}`));
}

/** The host:port of an AMQP URL, for log lines (never its credentials). */
const nodeOf = (url: string) => {
  const u = new URL(url);
  return `${u.hostname}:${u.port || 5672}`;
};

/**
 * Opens a connection to the first of `urls` (comma-separated or a list)
 * that answers, trying them in turn from index `from`. Resolves with it and
 * the index of its node; rejects with the last node's error if none answers.
 */
export async function connectFirst(urls: string | string[], from = 0): Promise<{ conn: ChannelModel; index: number }> {
  const list = amqpUrls(urls);
  let last: unknown;
  for (let k = 0; k < list.length; k++) {
    const index = (from + k) % list.length;
    try {
      return { conn: await amqp.connect(list[index]!, { timeout: CONNECT_TIMEOUT_MS }), index };
    } catch (err) {
      last = err;
    }
  }
  throw last;
}

export interface BrokerOptions {
  /** AMQP URL, or several nodes' comma-separated, credentials included */
  url: string;
  log: Logger;
  /** exchanges and queues this process uses, checked on every connect */
  needs: Needs;
}

/** Something that consumes on each new channel (consumer.ts). */
export interface Attachable {
  attach(ch: ConfirmChannel): Promise<void>;
  /** the channel is gone: forget its deliveries (the broker hands them back) */
  detach(): void;
}

export interface PublishOptions {
  persistent?: boolean;
  headers?: Record<string, unknown>;
  /** the message's id (default: a new random one); every retry of this publish sends the same */
  messageId?: string;
}

export class Broker {
  private ch: ConfirmChannel | null = null;
  private waiters: ((ch: ConfirmChannel) => void)[] = [];
  private closing = false;
  private conn: ChannelModel | null = null;
  private readonly consumers: Attachable[] = [];
  private readonly urls: string[];
  /** the node to try first on the next connect */
  private next = 0;
  private looping = false;
  private connecting: Promise<void> | null = null;
  private wake: (() => void) | null = null;
  /** the node of the current connection (host:port), for logs and tests */
  node: string | null = null;

  private constructor(private readonly opts: BrokerOptions) {
    this.urls = amqpUrls(opts.url);
  }

  /** Connects (retrying with backoff, round the nodes, until one answers) and returns once the first channel is ready. */
  static async open(opts: BrokerOptions): Promise<Broker> {
    const b = new Broker(opts);
    const ready = b.channel();
    b.reconnect();
    await ready;
    return b;
  }

  /** Starts the connect loop unless it runs. */
  private reconnect(): void {
    if (this.looping) return;
    this.looping = true;
    this.connecting = this.connectLoop();
  }

  /** Tries round the nodes until one is connected and set up (or the broker is closed). */
  private async connectLoop(): Promise<void> {
    for (let round = 0; !this.closing; round++) {
      let conn: ChannelModel | null = null;
      try {
        const opened = await connectFirst(this.urls, this.next);
        conn = opened.conn;
        if (this.closing) throw new Error("closing"); // closes it below
        let dead = false;
        const c = conn;
        c.on("error", (err: Error) => this.opts.log.warn("broker connection error", { err }));
        c.on("close", (err?: Error) => {
          dead = true;
          if (this.conn === c) this.lostConnection(opened.index, err);
        });
        await this.setup(c);
        if (dead) throw new Error("connection closed while it was being set up");
        this.conn = c;
        this.next = opened.index;
        this.node = nodeOf(this.urls[opened.index]!);
        this.opts.log.info("broker connected", { node: this.node, nodes: this.urls.length });
        this.looping = false; // now: a close from here on starts a new loop
        return;
      } catch (err) {
        if (conn) await conn.close().catch(() => {});
        this.lost();
        if (this.closing) break;
        const delayMs = Math.min(5_000, 200 * 2 ** Math.min(round, 5));
        this.opts.log.warn("broker connect failed; retrying", { err: (err as Error)?.message, nodes: this.urls.length, delayMs });
        await new Promise<void>((resolve) => {
          const t = setTimeout(resolve, delayMs);
          this.wake = () => (clearTimeout(t), resolve());
        });
        this.wake = null;
      }
    }
    this.looping = false;
  }

  /** The connection to node `index` died: try the next node first (it is likely the node that went). */
  private lostConnection(index: number, err?: Error): void {
    this.conn = null;
    this.node = null;
    this.lost();
    if (this.closing) return;
    this.next = (index + 1) % this.urls.length;
    this.opts.log.warn("broker disconnected; reconnecting", { err: err?.message, nodes: this.urls.length });
    this.reconnect();
  }

  private async setup(model: ChannelModel): Promise<void> {
    const ch = await model.createConfirmChannel();
    ch.on("error", (err: Error) => this.opts.log.warn("broker channel error", { err }));
    ch.on("close", () => {
      if (this.ch !== ch) return;
      this.lost();
      // the channel alone was closed (a channel error): start afresh on a new connection
      if (!this.closing) void model.close().catch(() => {});
    });
    await checkTopology(ch, this.opts.needs);
    for (const c of this.consumers) await c.attach(ch);
    this.ch = ch;
    this.opts.log.info("broker channel ready");
    for (const w of this.waiters.splice(0)) w(ch);
  }

  private lost(): void {
    this.ch = null;
    for (const c of this.consumers) c.detach();
  }

  /** Adds a consumer: attached now if connected, and again on every reconnect. */
  async addConsumer(c: Attachable): Promise<void> {
    this.consumers.push(c);
    if (this.ch) await c.attach(this.ch);
  }

  /** The current channel, waiting for a reconnect if there is none. */
  channel(): Promise<ConfirmChannel> {
    if (this.ch) return Promise.resolve(this.ch);
    return new Promise((resolve) => this.waiters.push(resolve));
  }

  get connected(): boolean {
    return this.ch !== null;
  }

  /**
   * Publishes JSON (persistent by default) and resolves once the broker
   * confirmed it; retries across reconnects. A nack does not mean no queue
   * got it: when one bound queue refuses (a quorum queue whose leader is
   * being elected after its node died), the others have a copy already, and
   * each retry adds one. So every retry carries the same `messageId`, and a
   * consumer (or a test counting events) sees one message, delivered more
   * than once, not several.
   */
  async publish(exchange: string, routingKey: string, body: Buffer, opts: PublishOptions = {}): Promise<void> {
    const messageId = opts.messageId ?? randomUUID();
    for (let attempt = 0; ; attempt++) {
      if (this.closing && !this.ch) throw new Error("broker closed");
      const ch = await this.channel();
      try {
        await new Promise<void>((resolve, reject) => {
          ch.publish(exchange, routingKey, body, { persistent: opts.persistent ?? true, contentType: "application/json", headers: opts.headers, messageId }, (err) =>
            err ? reject(err) : resolve(),
          );
        });
        return;
      } catch (err) {
        // nacked, or the channel closed (its close handler then waits for the reconnect)
        this.opts.log.warn("publish not confirmed; retrying", { routingKey, attempt, err });
        await Bun.sleep(Math.min(2000, 100 * 2 ** attempt));
      }
    }
  }

  /** Closes the channel, then the connection. Idempotent. */
  async close(): Promise<void> {
    if (this.closing) return;
    this.closing = true;
    this.wake?.();
    await this.connecting;
    const ch = this.ch;
    this.ch = null;
    if (ch) await ch.close().catch(() => {});
    const conn = this.conn;
    this.conn = null;
    await conn?.close().catch(() => {});
  }
}
