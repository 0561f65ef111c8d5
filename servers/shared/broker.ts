/**
 * @module broker
 * A recovering AMQP connection with one confirm channel. On every (re)connect
 * it declares the topology and runs the owner's `onChannel` (set prefetch,
 * start consumers). Publishing waits for the broker's confirm and retries
 * across reconnects, so a published message is never silently lost.
 */
import amqp, { type ChannelModel, type ConfirmChannel, type ConsumeMessage, type RecoveringChannelModel } from "amqplib";
import { declareTopology } from "./topology.ts";
import type { Logger } from "./log.ts";

export interface BrokerOptions {
  url: string;
  log: Logger;
  /** Runs on each new channel, after the topology is declared. */
  onChannel?: (ch: ConfirmChannel, broker: Broker) => Promise<void>;
}

export class Broker {
  private ch: ConfirmChannel | null = null;
  private waiters: ((ch: ConfirmChannel) => void)[] = [];
  private closing = false;
  private conn!: RecoveringChannelModel;
  private consumerTags = new Set<string>();

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
      b.ch = null;
      if (!b.closing) opts.log.warn("broker disconnected; reconnecting", { err: err?.message });
    });
    b.conn.on("connect-failed", (err: Error) => opts.log.debug("broker connect failed", { err: err?.message }));
    await ready;
    return b;
  }

  private async setup(model: ChannelModel): Promise<void> {
    const ch = await model.createConfirmChannel();
    ch.on("error", (err: Error) => this.opts.log.warn("broker channel error", { err }));
    ch.on("close", () => {
      if (this.ch === ch) this.ch = null;
    });
    await declareTopology(ch);
    this.consumerTags.clear();
    if (this.opts.onChannel) await this.opts.onChannel(ch, this);
    this.ch = ch;
    this.opts.log.info("broker channel ready");
    for (const w of this.waiters.splice(0)) w(ch);
  }

  /** The current channel, waiting for a reconnect if there is none. */
  channel(): Promise<ConfirmChannel> {
    if (this.ch) return Promise.resolve(this.ch);
    return new Promise((resolve) => this.waiters.push(resolve));
  }

  get connected(): boolean {
    return this.ch !== null;
  }

  /** Publishes persistent JSON and resolves once the broker confirmed it; retries across reconnects. */
  async publish(exchange: string, routingKey: string, body: Buffer, opts: { persistent?: boolean } = {}): Promise<void> {
    for (let attempt = 0; ; attempt++) {
      if (this.closing && !this.ch) throw new Error("broker closed");
      const ch = await this.channel();
      try {
        await new Promise<void>((resolve, reject) => {
          ch.publish(exchange, routingKey, body, { persistent: opts.persistent ?? true, contentType: "application/json" }, (err) =>
            err ? reject(err) : resolve(),
          );
        });
        return;
      } catch (err) {
        if (this.ch === ch) this.ch = null;
        this.opts.log.warn("publish not confirmed; retrying", { routingKey, attempt, err });
        await Bun.sleep(Math.min(2000, 100 * 2 ** attempt));
      }
    }
  }

  /** Starts a consumer on `ch` (call from `onChannel`) and remembers its tag so `stopConsuming` can cancel it. */
  async consume(ch: ConfirmChannel, queue: string, handler: (msg: ConsumeMessage, ch: ConfirmChannel) => void): Promise<void> {
    const { consumerTag } = await ch.consume(queue, (msg) => {
      if (msg === null) {
        this.opts.log.warn("consumer cancelled by the broker", { queue });
        return;
      }
      handler(msg, ch);
    });
    this.consumerTags.add(consumerTag);
  }

  /** Cancels this process's consumers: no new deliveries; in-flight ones can still be acked. */
  async stopConsuming(): Promise<void> {
    const ch = this.ch;
    if (!ch) return;
    for (const tag of this.consumerTags) await ch.cancel(tag).catch(() => {});
    this.consumerTags.clear();
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

/** Acks/nacks `msg` on `ch`, ignoring a channel that has since closed (the broker then redelivers). */
export function settle(ch: ConfirmChannel, msg: ConsumeMessage, outcome: "ack" | "requeue" | "dead"): void {
  try {
    if (outcome === "ack") ch.ack(msg);
    else ch.nack(msg, false, outcome === "requeue");
  } catch {
    /* channel gone: the broker redelivers the message */
  }
}
