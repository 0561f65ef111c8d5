/**
 * Graceful shutdown of a real downloader process beside the stack's own:
 * SIGTERM while it is downloading lets its in-flight files finish (each
 * file is fetched exactly once), then it closes and exits cleanly.
 */
import { expect, test } from "bun:test";
import { newId } from "../shared/ids.ts";
import type { FileEvent } from "../shared/messages.ts";
import { WORK_EXCHANGE, keys } from "../shared/topology.ts";
import { useStack } from "../../test/stack.ts";
import { tester } from "../../test/support/broker.ts";
import { watch } from "../../test/support/events.ts";
import { trickle } from "../../test/support/fixtures.ts";
import { extraDownloader } from "../../test/support/parts.ts";
import { until } from "../../test/support/wait.ts";

test("SIGTERM: in-flight downloads finish, each file is fetched once, the process exits cleanly", async () => {
  const { config, env, fixtures } = await useStack();
  const second = await extraDownloader(env, `downloader-sd-${newId().slice(0, 6)}`);
  const t = await tester(config);
  const jobId = newId();
  const events = await watch(config, keys.jobAll(jobId));
  try {
    const finals = () => events.events.map((e) => e.ev as FileEvent).filter((e) => e.type === "file" && e.state !== "downloading");
    const n = 12;
    const paths = Array.from({ length: n }, (_, i) => `/sd-${jobId}/f${i}.bin`);
    const body = new Uint8Array(20_000).fill(7);
    // total n + 1: the job stays incomplete, so the compressor leaves it alone
    for (const [index, path] of paths.entries()) {
      const url = fixtures.route(path, trickle(body, 1500));
      await t.send(WORK_EXCHANGE, keys.download(jobId), { v: 1, jobId, index, total: n + 1, url }, { persistent: true });
    }
    await until("every file being fetched", () => paths.every((p) => fixtures.hits(p) === 1));

    await second.stop(); // SIGTERM, waits until the process is gone
    const log = await second.log();
    expect(log).toMatch(/waiting for in-flight downloads count=\d+/);
    expect(log).toContain("stopped");
    expect(log).not.toContain("shutdown step failed");

    await until("every file done", () => finals().length === n);
    expect(finals().every((e) => e.state === "done" && e.bytes === body.length)).toBe(true);
    for (const p of paths) expect(fixtures.hits(p)).toBe(1);
  } finally {
    await second.stop();
    await events.close();
    await t.close();
  }
}, 90_000);
