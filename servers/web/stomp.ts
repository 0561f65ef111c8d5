/**
 * @module stomp
 * The web process's ONE STOMP connection to RabbitMQ's Web-STOMP plugin,
 * shared by every SSE client. Subscriptions are reference-counted per
 * destination (the first handler subscribes, the last one leaving
 * unsubscribes); after a reconnect (stompjs retries with exponential backoff)
 * every active destination is subscribed again. `subscribe` resolves once the
 * broker has confirmed the subscription (a STOMP receipt), so a caller can
 * read the job store afterwards knowing no later event will be missed.
 */
import { Client, ReconnectionTimeMode, type StompSubscription } from "@stomp/stompjs";
import type { Logger } from "../shared/log.ts";

export interface StompOptions {
  url: string;
  login: string;
  passcode: string;
  /** the RabbitMQ virtual host */
  vhost: string;
  log: Logger;
  /** how long `subscribe` waits for the broker's receipt before giving up waiting (not subscribing) */
  receiptTimeoutMs?: number;
}

type Handler = (body: string) => void;
interface Entry {
  handlers: Set<Handler>;
  handle: StompSubscription | null;
  confirmed: boolean;
  waiters: (() => void)[];
}

export class StompHub {
  private readonly client: Client;
  private readonly subs = new Map<string, Entry>();
  private seq = 0;
  /** successful (re)connections so far */
  connects = 0;

  constructor(private readonly opts: StompOptions) {
    this.client = new Client({
      webSocketFactory: () => new WebSocket(opts.url, ["v12.stomp"]),
      connectHeaders: { login: opts.login, passcode: opts.passcode, host: opts.vhost },
      reconnectDelay: 500,
      maxReconnectDelay: 10_000,
      reconnectTimeMode: ReconnectionTimeMode.EXPONENTIAL,
      heartbeatIncoming: 10_000,
      heartbeatOutgoing: 10_000,
      debug: () => {},
      onConnect: () => {
        this.connects++;
        opts.log.info("stomp connected", { subscriptions: this.subs.size });
        for (const [dest, e] of this.subs) this.subscribeNow(dest, e);
      },
      onStompError: (frame) => opts.log.warn("stomp error", { message: frame.headers.message, body: frame.body }),
      onWebSocketClose: () => {
        if (this.connects > 0) opts.log.warn("stomp connection lost; reconnecting");
        for (const e of this.subs.values()) {
          e.handle = null;
          e.confirmed = false;
        }
      },
    });
  }

  start(): void {
    this.client.activate();
  }

  get connected(): boolean {
    return this.client.connected;
  }

  /** Number of destinations with at least one handler (one broker subscription each). */
  get subscriptions(): number {
    return this.subs.size;
  }

  /**
   * Adds `handler` for messages on `dest`. Resolves with the unsubscribe
   * function once the broker confirmed the subscription, or after the receipt
   * timeout (e.g. while the broker is down: the subscription is made on connect).
   */
  async subscribe(dest: string, handler: Handler): Promise<() => void> {
    let e = this.subs.get(dest);
    if (!e) {
      e = { handlers: new Set(), handle: null, confirmed: false, waiters: [] };
      this.subs.set(dest, e);
      if (this.client.connected) this.subscribeNow(dest, e);
    }
    const entry = e;
    entry.handlers.add(handler);
    if (!entry.confirmed) {
      await new Promise<void>((resolve) => {
        const t = setTimeout(() => {
          this.opts.log.warn("stomp subscription not confirmed in time; going on", { dest, connected: this.client.connected });
          resolve();
        }, this.opts.receiptTimeoutMs ?? 3000);
        entry.waiters.push(() => {
          clearTimeout(t);
          resolve();
        });
      });
    }
    let gone = false;
    return () => {
      if (gone) return;
      gone = true;
      entry.handlers.delete(handler);
      if (entry.handlers.size > 0 || this.subs.get(dest) !== entry) return;
      this.subs.delete(dest);
      for (const w of entry.waiters.splice(0)) w();
      this.opts.log.debug("stomp unsubscribing", { dest, id: entry.handle?.id, connected: this.client.connected });
      if (entry.handle && this.client.connected)
        try {
          entry.handle.unsubscribe();
        } catch (err) {
          this.opts.log.debug("stomp unsubscribe failed", { dest, err });
        }
    };
  }

  private subscribeNow(dest: string, e: Entry): void {
    const receipt = `r${++this.seq}`;
    const t0 = Date.now();
    this.client.watchForReceipt(receipt, () => {
      this.opts.log.debug("stomp subscribed", { dest, id: e.handle?.id, ms: Date.now() - t0 });
      e.confirmed = true;
      for (const w of e.waiters.splice(0)) w();
    });
    e.handle = this.client.subscribe(
      dest,
      (msg) => {
        for (const h of e.handlers)
          try {
            h(msg.body);
          } catch (err) {
            this.opts.log.error("stomp handler failed", { dest, err });
          }
      },
      { receipt },
    );
  }

  async close(): Promise<void> {
    for (const e of this.subs.values()) for (const w of e.waiters.splice(0)) w();
    this.subs.clear();
    await this.client.deactivate();
  }
}
