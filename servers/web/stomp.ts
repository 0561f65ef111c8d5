/**
 * @module stomp
 * The web process's ONE STOMP connection to RabbitMQ's Web-STOMP plugin,
 * shared by every SSE client. Subscriptions are reference-counted per
 * destination (the first handler subscribes, the last one leaving
 * unsubscribes). `subscribe` resolves once the broker has confirmed the
 * subscription (a STOMP receipt), so a caller can read the job store
 * afterwards knowing no later event will be missed.
 *
 * With several endpoints (one per node of a cluster) it uses one at a time
 * and moves to the next whenever the connection is lost or cannot be made
 * (stompjs retries with exponential backoff, reset once connected);
 * heartbeats every few seconds notice a dead node. After a reconnect every
 * active destination is subscribed again, and once that is confirmed each
 * handler's `onResume` runs: what was published meanwhile never reached
 * this process, so the caller reads the store again and re-sends the state.
 */
import { Client, ReconnectionTimeMode, type StompSubscription } from "@stomp/stompjs";
import type { Logger } from "../shared/log.ts";

/** STOMP heartbeat period, both ways. */
const HEARTBEAT_MS = 4_000;

export interface StompOptions {
  /** Web-STOMP endpoints (ws://host:port/ws), tried in turn */
  urls: string[];
  login: string;
  passcode: string;
  /** the RabbitMQ virtual host */
  vhost: string;
  log: Logger;
  /** how long `subscribe` waits for the broker's receipt before giving up waiting (not subscribing) */
  receiptTimeoutMs?: number;
}

type Handler = (body: string) => void;
interface Listener {
  onMessage: Handler;
  onResume?: () => void;
}
interface Entry {
  handlers: Set<Listener>;
  handle: StompSubscription | null;
  confirmed: boolean;
  waiters: (() => void)[];
}

export class StompHub {
  private readonly client: Client;
  private readonly subs = new Map<string, Entry>();
  private seq = 0;
  /** the endpoint in use (index into `opts.urls`) */
  private at = 0;
  /** successful (re)connections so far */
  connects = 0;

  constructor(private readonly opts: StompOptions) {
    if (opts.urls.length === 0) throw new Error("StompHub needs at least one Web-STOMP URL");
    this.client = new Client({
      webSocketFactory: () => new WebSocket(opts.urls[this.at]!, ["v12.stomp"]),
      connectHeaders: { login: opts.login, passcode: opts.passcode, host: opts.vhost },
      reconnectDelay: 500,
      maxReconnectDelay: 10_000,
      reconnectTimeMode: ReconnectionTimeMode.EXPONENTIAL,
      // a node that died without closing the socket is noticed within two periods
      heartbeatIncoming: HEARTBEAT_MS,
      heartbeatOutgoing: HEARTBEAT_MS,
      discardWebsocketOnCommFailure: true,
      connectionTimeout: 5_000,
      debug: () => {},
      onConnect: () => {
        const resumed = this.connects++ > 0;
        opts.log.info("stomp connected", { url: opts.urls[this.at], subscriptions: this.subs.size });
        for (const [dest, e] of this.subs) this.subscribeNow(dest, e, resumed);
      },
      onStompError: (frame) => opts.log.warn("stomp error", { message: frame.headers.message, body: frame.body }),
      onWebSocketClose: () => {
        if (this.connects > 0) opts.log.warn("stomp connection lost; reconnecting", { url: opts.urls[this.at], next: opts.urls[(this.at + 1) % opts.urls.length] });
        // this endpoint failed us: the next attempt goes to the next one
        this.at = (this.at + 1) % opts.urls.length;
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

  /** The endpoint in use, or tried next while disconnected. */
  get url(): string {
    return this.opts.urls[this.at]!;
  }

  /** Number of destinations with at least one handler (one broker subscription each). */
  get subscriptions(): number {
    return this.subs.size;
  }

  /**
   * Adds `handler` for messages on `dest`. Resolves with the unsubscribe
   * function once the broker confirmed the subscription, or after the receipt
   * timeout (e.g. while the broker is down: the subscription is made on connect).
   * `onResume` runs each time the subscription is confirmed again after a
   * reconnect (messages may have been missed in between).
   */
  async subscribe(dest: string, handler: Handler, onResume?: () => void): Promise<() => void> {
    let e = this.subs.get(dest);
    if (!e) {
      e = { handlers: new Set(), handle: null, confirmed: false, waiters: [] };
      this.subs.set(dest, e);
      if (this.client.connected) this.subscribeNow(dest, e);
    }
    const entry = e;
    const listener: Listener = { onMessage: handler, onResume };
    entry.handlers.add(listener);
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
      entry.handlers.delete(listener);
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

  private subscribeNow(dest: string, e: Entry, resumed = false): void {
    const receipt = `r${++this.seq}`;
    const t0 = Date.now();
    this.client.watchForReceipt(receipt, () => {
      this.opts.log.debug("stomp subscribed", { dest, id: e.handle?.id, ms: Date.now() - t0, resumed });
      e.confirmed = true;
      for (const w of e.waiters.splice(0)) w();
      if (resumed) for (const l of [...e.handlers]) this.call(dest, () => l.onResume?.());
    });
    e.handle = this.client.subscribe(
      dest,
      (msg) => {
        for (const l of e.handlers) this.call(dest, () => l.onMessage(msg.body));
      },
      { receipt },
    );
  }

  private call(dest: string, f: () => void): void {
    try {
      f();
    } catch (err) {
      this.opts.log.error("stomp handler failed", { dest, err });
    }
  }

  async close(): Promise<void> {
    for (const e of this.subs.values()) for (const w of e.waiters.splice(0)) w();
    this.subs.clear();
    await this.client.deactivate();
  }
}
