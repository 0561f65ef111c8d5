/**
 * Graceful shutdown of a real downloader process beside the stack's own:
 * SIGTERM while it is downloading lets its in-flight files finish (each
 * file is fetched exactly once), then it closes and exits cleanly.
 */
import { expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import amqp from "amqplib";
import { loadConfig } from "../shared/config.ts";
import { brokerUrl } from "../shared/brokerauth.ts";
import { newId } from "../shared/ids.ts";
import { encode, parseProgressEvent, type FileEvent } from "../shared/messages.ts";
import { PROGRESS_EXCHANGE, WORK_EXCHANGE, keys } from "../shared/topology.ts";
import { logFile, stopProcess } from "../../scripts/lib/procs.ts";
import { startPart } from "../../scripts/lib/stack.ts";
import { slowRoute, until } from "../../test/faults/helpers.ts";
import { useStack } from "../../test/stack.ts";
import { freePort } from "../../scripts/lib/ports.ts";

test("SIGTERM: in-flight downloads finish, each file is fetched once, the process exits cleanly", async () => {
  const { config, env, fixtures } = await useStack();
  const name = `downloader-sd-${newId().slice(0, 6)}`;
  const second = loadConfig({ ...env, DOWNLOADER_PORT: String(freePort()) });
  await startPart(second, "downloader", 90_000, name);
  const conn = await amqp.connect(brokerUrl(config, "tester"));
  try {
    const ch = await conn.createConfirmChannel();
    const jobId = newId();
    const { queue } = await ch.assertQueue("", { exclusive: true, autoDelete: true });
    await ch.bindQueue(queue, PROGRESS_EXCHANGE, keys.jobAll(jobId));
    const done: FileEvent[] = [];
    await ch.consume(queue, (m) => {
      const ev = m && parseProgressEvent(m.content);
      if (ev?.type === "file" && ev.state !== "downloading") done.push(ev);
    }, { noAck: true });

    const n = 12;
    const paths = Array.from({ length: n }, (_, i) => `/sd-${jobId}/f${i}.bin`);
    const body = new Uint8Array(20_000).fill(7);
    // total n + 1: the job stays incomplete, so the compressor leaves it alone
    for (const [index, path] of paths.entries()) {
      const url = slowRoute(fixtures, path, body, 1500);
      ch.publish(WORK_EXCHANGE, keys.download(jobId), encode({ v: 1, jobId, index, total: n + 1, url }), { persistent: true });
    }
    await ch.waitForConfirms();
    await until(() => paths.every((p) => fixtures.hits(p) === 1), 10_000, "every file being fetched");

    await stopProcess(config.RUN_DIR, name); // SIGTERM, waits until the process is gone
    const log = readFileSync(logFile(config.RUN_DIR, name), "utf8");
    expect(log).toMatch(/waiting for in-flight downloads count=\d+/);
    expect(log).toContain("stopped");
    expect(log).not.toContain("shutdown step failed");

    await until(() => done.length === n, 20_000, "every file done");
    expect(done.every((e) => e.state === "done" && e.bytes === body.length)).toBe(true);
    for (const p of paths) expect(fixtures.hits(p)).toBe(1);
  } finally {
    await stopProcess(config.RUN_DIR, name);
    await conn.close().catch(() => {});
  }
}, 90_000);
