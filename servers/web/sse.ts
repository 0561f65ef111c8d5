/**
 * @module sse
 * One Server-Sent Events response over a plain ReadableStream. Sending never
 * blocks the sender (the bridge writes the same event to hundreds of
 * clients): a client whose unread backlog grows past `maxBacklogBytes` is cut
 * off and, on reconnecting, gets the full current state again. Heartbeat
 * comments keep proxies from closing a quiet stream. `onClose` runs exactly
 * once, whoever ends the stream (us, the client, or a slow-client cut-off).
 */
export interface SseMessage {
  event?: string;
  data: string;
  id?: string;
}

export interface SseOptions {
  /** the request's signal: aborted when the client goes away */
  signal?: AbortSignal;
  onClose?: () => void;
  heartbeatMs?: number;
  /** reconnection delay suggested to the client */
  retryMs?: number;
  maxBacklogBytes?: number;
}

const enc = new TextEncoder();

/** One event in the wire format (multi-line data becomes several `data:` lines). */
export function formatSse(m: SseMessage): string {
  let out = "";
  if (m.event) out += `event: ${m.event.replace(/[\r\n]/g, "")}\n`;
  if (m.id !== undefined) out += `id: ${m.id.replace(/[\r\n\0]/g, "")}\n`;
  for (const line of m.data.split(/\r\n|\r|\n/)) out += `data: ${line}\n`;
  return out + "\n";
}

export class SseStream {
  readonly response: Response;
  private controller!: ReadableStreamDefaultController<Uint8Array>;
  private heartbeat: Timer | undefined;
  private done = false;
  private readonly onClose?: () => void;
  private readonly maxBacklog: number;

  constructor(opts: SseOptions = {}, headers: Record<string, string> = {}) {
    this.onClose = opts.onClose;
    this.maxBacklog = opts.maxBacklogBytes ?? 4 * 1024 * 1024;
    const body = new ReadableStream<Uint8Array>(
      {
        start: (c) => {
          this.controller = c;
        },
        cancel: () => this.finish(false),
      },
      new ByteLengthQueuingStrategy({ highWaterMark: 0 }),
    );
    this.response = new Response(body, {
      headers: {
        "content-type": "text/event-stream; charset=utf-8",
        "cache-control": "no-cache, no-transform",
        "x-accel-buffering": "no",
        ...headers,
      },
    });
    this.write(`retry: ${opts.retryMs ?? 2000}\n: linkpack events\n\n`);
    this.heartbeat = setInterval(() => this.write(": heartbeat\n\n"), opts.heartbeatMs ?? 15_000);
    if (opts.signal?.aborted) this.finish(false);
    else opts.signal?.addEventListener("abort", () => this.finish(false), { once: true });
  }

  get closed(): boolean {
    return this.done;
  }

  /** Queues one event; false if the stream is closed (or was just cut off as too slow). */
  send(m: SseMessage): boolean {
    return this.write(formatSse(m));
  }

  /** Ends the stream after what is queued. Idempotent. */
  close(): void {
    this.finish(true);
  }

  private write(text: string): boolean {
    if (this.done) return false;
    try {
      this.controller.enqueue(enc.encode(text));
    } catch {
      this.finish(false);
      return false;
    }
    if ((this.controller.desiredSize ?? 0) < -this.maxBacklog) {
      this.finish(true);
      return false;
    }
    return true;
  }

  private finish(closeBody: boolean): void {
    if (this.done) return;
    this.done = true;
    clearInterval(this.heartbeat);
    if (closeBody)
      try {
        this.controller.close();
      } catch {
        // already closed or cancelled by the client
      }
    this.onClose?.();
  }
}
