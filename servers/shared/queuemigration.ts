/**
 * @module queuemigration
 * Moves what waits in a retired queue into its successor, then deletes the
 * retired one. A queue's type cannot change in place, so switching
 * QUEUE_TYPE (or upgrading an installation whose `linkpack.web.progress`
 * was a classic queue) leaves messages in a queue no server reads any more
 * (topology.ts `durableQueues(type)[].retired`). Run by `bun run start` as
 * the admin, after `declareTopology`:
 *
 *   1. the retired queue is unbound from the work and progress exchanges, so
 *      nothing new lands there (its retry binding stays: a server of the old
 *      layout still running may send a message back to it);
 *   2. its messages are taken with `basic.get`, republished to the current
 *      queue (same properties; confirmed) and only then acked, in batches —
 *      a crash in between leaves a copy in both, never in neither;
 *   3. it is deleted only if it is empty and nobody consumes it; otherwise it
 *      stays (what waited was moved) and the next start tries again. (A
 *      quorum queue cannot be deleted "if empty and unused", so for one that
 *      is checked just before: a message an old server sends back in that
 *      instant could be lost — only when going from quorum back to classic.)
 */
import type { ChannelModel, ConfirmChannel, GetMessage, Options } from "amqplib";
import { ATTEMPTS_HEADER } from "./consumer.ts";
import { RETRY_EXCHANGE, durableQueues, typeOfQueue } from "./topology.ts";

/** Messages moved per confirm round. */
const BATCH = 200;

export interface MigrationNote {
  from: string;
  to: string;
  moved: number;
  /** false: left in place because a consumer still reads it (a server of the old layout) */
  deleted: boolean;
  consumers: number;
}

/** Migrates every retired queue of QUEUE_TYPE `type` on `conn`; returns one note per retired queue that existed. */
export async function migrateQueues(conn: ChannelModel, type: string): Promise<MigrationNote[]> {
  const notes: MigrationNote[] = [];
  for (const q of durableQueues(type))
    for (const old of q.retired) {
      if (!(await exists(conn, old))) continue;
      const ch = await conn.createConfirmChannel();
      try {
        for (const [exchange, key] of q.bindings) if (exchange !== RETRY_EXCHANGE) await ch.unbindQueue(old, exchange, key);
        notes.push(await drainInto(conn, ch, old, q.name));
      } finally {
        await ch.close().catch(() => {});
      }
    }
  return notes;
}

/** A passive declare on a channel of its own (a missing queue closes the channel with 404). */
async function exists(conn: ChannelModel, queue: string): Promise<boolean> {
  const ch = await conn.createChannel();
  ch.on("error", () => {});
  try {
    await ch.checkQueue(queue);
    await ch.close();
    return true;
  } catch {
    return false;
  }
}

async function drainInto(conn: ChannelModel, ch: ConfirmChannel, from: string, to: string): Promise<MigrationNote> {
  let moved = 0;
  // a message may still come back through the retry binding while we delete: then move again
  for (let round = 0; round < 5; round++) {
    moved += await moveAll(ch, from, to);
    const probe = await conn.createChannel();
    probe.on("error", () => {});
    try {
      const { consumerCount, messageCount } = await probe.checkQueue(from);
      if (consumerCount > 0) return { from, to, moved, deleted: false, consumers: consumerCount };
      if (messageCount > 0) continue;
      // quorum queues refuse if-empty/if-unused (NOT_IMPLEMENTED, which closes the connection): the check above must do
      await probe.deleteQueue(from, typeOfQueue(from) === "quorum" ? {} : { ifEmpty: true, ifUnused: true });
      return { from, to, moved, deleted: true, consumers: 0 };
    } catch {
      // 406: a message or a consumer came meanwhile (the channel is closed by it); look again
    } finally {
      await probe.close().catch(() => {});
    }
  }
  return { from, to, moved, deleted: false, consumers: 0 };
}

/** Moves every ready message of `from` to `to` (the default exchange routes by queue name); returns how many. */
async function moveAll(ch: ConfirmChannel, from: string, to: string): Promise<number> {
  let moved = 0;
  for (;;) {
    const batch: GetMessage[] = [];
    for (let m; batch.length < BATCH && (m = await ch.get(from, { noAck: false })); ) batch.push(m);
    if (batch.length === 0) return moved;
    for (const m of batch) ch.publish("", to, m.content, republished(m));
    await ch.waitForConfirms();
    ch.ack(batch.at(-1)!, true);
    moved += batch.length;
  }
}

/**
 * The message's properties for its new queue. A redelivered message's
 * consumer died with it: that counts as an attempt (consumer.ts), so the
 * count is carried over in the header before the redelivered flag is lost.
 */
function republished(m: GetMessage): Options.Publish {
  const p = m.properties;
  const headers = { ...p.headers };
  if (m.fields.redelivered) headers[ATTEMPTS_HEADER] = (Number(headers[ATTEMPTS_HEADER]) || 0) + 1;
  return {
    headers,
    contentType: p.contentType,
    contentEncoding: p.contentEncoding,
    deliveryMode: p.deliveryMode,
    priority: p.priority,
    correlationId: p.correlationId,
    replyTo: p.replyTo,
    expiration: p.expiration,
    messageId: p.messageId,
    timestamp: p.timestamp,
    type: p.type,
    appId: p.appId,
  };
}
