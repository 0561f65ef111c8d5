/**
 * @module events
 * One exclusive queue bound to every job's progress events (`job.#` on the
 * progress exchange), dispatched by job id. Subscribing once for the whole
 * bench, before any job is submitted, means no event of a fast job can be
 * missed between `POST /jobs` returning and a per-job binding.
 */
import amqp, { type Channel, type ChannelModel } from "amqplib";
import { parseProgressEvent, type JobEvent, type LinkEvent } from "../../servers/shared/messages.ts";
import { patterns, PROGRESS_EXCHANGE } from "../../servers/shared/topology.ts";

/** An event with the bench's clock (performance.now) at arrival. */
export interface Seen {
  ev: JobEvent;
  recv: number;
}

export class JobFailed extends Error {
  override name = "JobFailed";
}

interface Entry {
  seen: Seen[];
  done?: (s: Seen) => void;
  fail?: (e: Error) => void;
}

export class EventHub {
  private jobs = new Map<string, Entry>();
  private constructor(private conn: ChannelModel) {}

  static async open(url: string): Promise<EventHub> {
    const conn = await amqp.connect(url);
    const hub = new EventHub(conn);
    const ch: Channel = await conn.createChannel();
    const { queue } = await ch.assertQueue("", { exclusive: true, autoDelete: true });
    await ch.bindQueue(queue, PROGRESS_EXCHANGE, patterns.allJobs);
    await ch.consume(queue, (m) => m && hub.dispatch(parseProgressEvent(m.content) as JobEvent), { noAck: true });
    return hub;
  }

  private entry(id: string): Entry {
    let e = this.jobs.get(id);
    if (!e) this.jobs.set(id, (e = { seen: [] }));
    return e;
  }

  private dispatch(ev: JobEvent): void {
    const e = this.entry(ev.jobId);
    const s = { ev, recv: performance.now() };
    e.seen.push(s);
    if (ev.type === "link") e.done?.(s);
    if (ev.type === "failed") e.fail?.(new JobFailed(`job ${ev.jobId} failed: ${ev.error}`));
  }

  /** Forgets what was seen of `id` (a long run keeps no history). */
  forget(id: string): void {
    this.jobs.delete(id);
  }

  /** Resolves with the link event of `id` (possibly already seen); rejects if the job fails or `ms` pass. */
  waitLink(id: string, ms: number): Promise<{ link: LinkEvent; recv: number }> {
    const e = this.entry(id);
    const got = (s: Seen) => ({ link: s.ev as LinkEvent, recv: s.recv });
    const already = e.seen.find((s) => s.ev.type === "link");
    if (already) return Promise.resolve(got(already));
    const failed = e.seen.find((s) => s.ev.type === "failed");
    if (failed) return Promise.reject(new JobFailed(`job ${id} failed: ${(failed.ev as { error: string }).error}`));
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new JobFailed(`job ${id}: no link after ${ms} ms`)), ms);
      e.done = (s) => (clearTimeout(timer), resolve(got(s)));
      e.fail = (err) => (clearTimeout(timer), reject(err));
    });
  }

  /** Every event seen for `id`, and forgets the job. */
  take(id: string): JobEvent[] {
    const evs = this.jobs.get(id)?.seen.map((s) => s.ev) ?? [];
    this.jobs.delete(id);
    return evs;
  }

  async close(): Promise<void> {
    await this.conn.close().catch(() => {});
  }
}
