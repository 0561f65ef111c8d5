/**
 * When in doubt, a link counts as used. On a stack of its own with a short
 * lease (LINK_LEASE_SECONDS=4) and send timeout (2 s): a lease that runs out
 * never opens a second copy while the first may still be streaming; a
 * client that vanished is dropped and can resume; the guard killed with -9
 * mid-download catches up from the log file it reads; nginx killed with -9
 * (no log line ever) leaves the link used once the lease lapses; a forged
 * log line changes nothing.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { appendFileSync, existsSync, statSync } from "node:fs";
import type { Socket } from "node:net";
import { createStack } from "../../test/stack.ts";
import { getSettled, place, random, raw, settled } from "../../test/support/links.ts";
import { kill9, restart } from "../../test/support/parts.ts";
import { until } from "../../test/support/wait.ts";

const MiB = 1024 * 1024;
let stack: Awaited<ReturnType<typeof createStack>>;
beforeAll(async () => {
  stack = await createStack({ LINK_LEASE_SECONDS: "4", LINK_SEND_TIMEOUT_SECONDS: "2" });
}, 120_000);
afterAll(async () => {
  await stack?.stop();
}, 60_000);

/** A 64 MiB archive and a GET of it that stops reading after 24 MiB (its socket, to resume or cut). */
async function pausedDownload() {
  const { config } = stack;
  const data = random(64 * MiB);
  const p = place(config, data);
  let paused: Socket | null = null;
  const first = raw(config, p.target, { pauseAfter: 24 * MiB, onPause: (s) => (paused = s) });
  const socket = await until("the client to stop reading", () => paused);
  return { config, data, p, first, socket };
}

describe("leases that end without a word", () => {
  test("a lapsed lease opens no second copy: the second GET gets 409 then 410, never 200, while the first completes", async () => {
    const { config } = stack;
    const data = random(24 * MiB); // ~6 s at 4 MiB/s: longer than the 4 s lease
    const p = place(config, data);
    let started = false;
    const first = raw(config, p.target, { rate: 4 * MiB, pauseAfter: 0, onPause: (s) => ((started = true), s.resume()) });
    await until("the first download to be under way", () => started);
    const seen: number[] = [];
    await until("the second GET to be refused as used", async () => {
      const r = await fetch(p.link);
      await r.arrayBuffer();
      seen.push(r.status);
      return r.status === 410;
    });
    expect(seen.filter((s) => s !== 409 && s !== 410)).toEqual([]);
    const got = await first;
    expect(got.status).toBe(200);
    expect(got.body.equals(Buffer.from(data))).toBe(true);
    expect((await fetch(p.link)).status).toBe(410);
    await until("the archive to be deleted", () => !existsSync(p.file));
  }, 60_000);

  test("a client that stops reading is dropped after the send timeout: it can resume where it stopped, not restart", async () => {
    const { config, data, p, first, socket } = await pausedDownload();
    // nginx gives up on the silent client within its send timeout; until then the link is busy.
    const restart0 = await settled(() => raw(config, p.target));
    expect(restart0.status).toBe(416);
    socket.resume();
    const got = await first;
    const have = Math.min(got.body.length, 24 * MiB);
    const rest = await raw(config, p.target, { headers: { range: `bytes=${have}-` } });
    expect(rest.status).toBe(206);
    expect(Buffer.concat([got.body.subarray(0, have), rest.body]).equals(Buffer.from(data))).toBe(true);
  }, 60_000);

  test("the guard killed with -9 mid-download reads the line nginx wrote meanwhile: the download can be resumed", async () => {
    const { config, data, p, first, socket } = await pausedDownload();
    await kill9(config, "linkguard");
    // While the guard is down nothing is served (auth_request fails closed).
    expect((await raw(config, p.target)).status).toBe(500);
    socket.destroy(); // the download is cut off while the guard is down: nginx logs it to the file
    const got = await first;
    await restart(config, "linkguard");
    const have = got.body.length;
    const rest = await getSettled(p.link, { headers: { range: `bytes=${have}-` } });
    expect(rest.status).toBe(206); // had the line been lost, the lapsed lease would answer 410
    expect(Buffer.concat([got.body, Buffer.from(rest.body)]).equals(Buffer.from(data))).toBe(true);
  }, 60_000);

  test("nginx killed with -9 mid-download writes no line: once the lease lapses the link counts as fully delivered", async () => {
    const { config } = stack;
    const p = place(config, random(24 * MiB));
    let started = false;
    const first = raw(config, p.target, { rate: 2 * MiB, pauseAfter: MiB, onPause: (s) => ((started = true), s.resume()) });
    await until("the download to be under way", () => started);
    await kill9(config, "nginx", { group: true }); // master and workers: nothing is left to log the request
    await first;
    await restart(config, "nginx");
    const r = await getSettled(p.link, {}, 30_000);
    expect(r.status).toBe(410);
    await until("the archive to be deleted", () => !existsSync(p.file));
  }, 90_000);

  test("a forged log line (a token the guard never granted) changes nothing; the log is readable by its owner only", async () => {
    const { config } = stack;
    const data = random(64 * MiB); // more than the socket buffers hold, so a cut-off GET stays short of the end
    const p = place(config, data);
    expect(statSync(config.GUARD_LOG_FILE).mode & 0o777).toBe(0o600);
    appendFileSync(config.GUARD_LOG_FILE, `GET ${p.uri} 200 ${data.length} ${"0".repeat(32)}\n`);
    // A real GET cut short comes after it in the log: once its lease is free, the forged line was read too.
    await raw(config, p.target, { cutAfter: 1024 });
    const r = await getSettled(p.link);
    expect(r.status).toBe(200);
    expect(Buffer.from(r.body).equals(Buffer.from(data))).toBe(true);
  }, 60_000);
});
