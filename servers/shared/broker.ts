/**
 * @module broker
 * A recovering AMQP connection with one confirm channel. On every (re)connect
 * it checks (passively: the servers' users may declare nothing) that the
 * topology it needs is there, then attaches the consumers added to it (see
 * consumer.ts). `open` resolves once the first channel is ready, before
 * anything is consumed. Publishing waits for the broker's confirm and
 * retries across reconnects, so a published message is never silently lost.
 */
import amqp, { type ChannelModel, type ConfirmChannel, type RecoveringChannelModel } from "amqplib";
import { checkTopology, type Needs } from "./topology.ts";
import type { Logger } from "./log.ts";

export interface BrokerOptions {
  /** AMQP URL, credentials included */
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
}

export class Broker {
  private ch: ConfirmChannel | null = null;
  private waiters: ((ch: ConfirmChannel) => void)[] = [];
  private closing = false;
  private conn!: RecoveringChannelModel;
  private readonly consumers: Attachable[] = [];

  private constructor(private readonly opts: BrokerOptions) {}

  /** Connects (retrying with backoff until the broker answers) and returns once the first channel is ready. */
  static async open(opts: BrokerOptions): Promise<Broker> {
    const b = new Broker(opts);
    const ready = b.channel();
    const url = opts.url.includes("heartbeat=") ? opts.url : `${opts.url}${opts.url.includes("?") ? "&" : "?"}heartbeat=10`;
    b.conn = await amqp.connect(url, {
      recovery: {
        initialDelay: 200,
        maxDelay: 5000,
        waitForConnect: false,
        setup: (model: ChannelModel) => b.setup(model),
      },
    });
    b.conn.on("error", (err: Error) => opts.log.warn("broker connection error", { err }));
    b.conn.on("disconnect", (err: Error) => {
      b.lost();
      if (!b.closing) opts.log.warn("broker disconnected; reconnecting", { err: err?.message });
    });
    b.conn.on("connect-failed", (err: Error) => opts.log.warn("broker connect failed; retrying", { err: err?.message }));
    await ready;
    return b;
  }

  private async setup(model: ChannelModel): Promise<void> {
    const ch = await model.createConfirmChannel();
    ch.on("error", (err: Error) => this.opts.log.warn("broker channel error", { err }));
    ch.on("close", () => {
      if (this.ch === ch) this.lost();
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

  /** Publishes JSON (persistent by default) and resolves once the broker confirmed it; retries across reconnects. */
  async publish(exchange: string, routingKey: string, body: Buffer, opts: PublishOptions = {}): Promise<void> {
    for (let attempt = 0; ; attempt++) {
      if (this.closing && !this.ch) throw new Error("broker closed");
      const ch = await this.channel();
      try {
        await new Promise<void>((resolve, reject) => {
          ch.publish(exchange, routingKey, body, { persistent: opts.persistent ?? true, contentType: "application/json", headers: opts.headers }, (err) =>
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
    const ch = this.ch;
    this.ch = null;
    if (ch) await ch.close().catch(() => {});
    await this.conn?.close().catch(() => {});
  }
}
