/**
 * Bounded connections through a real stack with a 2 s idle timeout and a cap
 * of 3 event streams per client: a half-sent request is closed by the server,
 * an event stream outlives the idle timeout, and a client past its stream
 * cap gets 503 until it closes one.
 */
import { afterAll, beforeAll, expect, test } from "bun:test";
import { newId } from "../../servers/shared/ids.ts";
import { createStack } from "../stack.ts";
import { sseClient } from "../support/events.ts";
import { held } from "../support/fixtures.ts";
import { submit, waitFinal } from "../support/jobs.ts";
import { until } from "../support/wait.ts";

const IDLE_SECONDS = 2;
const PER_CLIENT = 3;
let s: Awaited<ReturnType<typeof createStack>>;
let gate: ReturnType<typeof held>;
let jobId: string;

beforeAll(async () => {
  // The body deadline is long, so it is the idle timeout that ends a stalled request here.
  s = await createStack({ HTTP_IDLE_TIMEOUT_SECONDS: String(IDLE_SECONDS), MAX_EVENT_STREAMS_PER_CLIENT: String(PER_CLIENT), BODY_TIMEOUT_MS: "600000" });
  // A job that stays unfinished until the end of the file.
  gate = held();
  jobId = await submit(s.web, [s.fixtures.route(`/conn-${newId()}/slow.bin`, gate.handler)]);
}, 120_000);
afterAll(async () => {
  gate?.release();
  if (jobId) await waitFinal(s.web, jobId).catch(() => null);
  await s?.stop();
}, 120_000);

test("a POST that sends only part of its body is closed by the server", async () => {
  const received: string[] = [];
  const closed = new Promise<void>((resolve) => {
    void Bun.connect({
      hostname: s.config.HOST,
      port: s.config.PORT,
      socket: {
        open(sock) {
          sock.write(`POST /jobs HTTP/1.1\r\nHost: ${s.config.HOST}:${s.config.PORT}\r\nContent-Type: text/plain\r\nContent-Length: 1000\r\n\r\nhttps://exa`);
        },
        data: (_sock, data) => void received.push(data.toString()),
        close: () => resolve(),
        error: () => resolve(),
      },
    });
  });
  await closed;
  expect(received.join("")).not.toContain("202 Accepted");
}, 60_000);

test("an event stream stays open longer than the idle timeout", async () => {
  const stream = await sseClient(`${s.web}/jobs/${jobId}/events?format=json`);
  const ticks: number[] = [];
  // The server clock's ticks: keep reading until they span three idle timeouts.
  const last = await stream.next((e) => {
    if (e.event === "clock") ticks.push((JSON.parse(e.data) as { epochMs: number }).epochMs);
    return ticks.length > 1 && ticks.at(-1)! - ticks[0]! >= 3 * IDLE_SECONDS * 1000;
  });
  stream.close();
  expect(last.event).toBe("clock");
}, 60_000);

test("a client past its cap of event streams gets 503 with Retry-After, and may open one again once it closed one", async () => {
  const url = `${s.web}/jobs/${jobId}/events`;
  const open = await Promise.all(Array.from({ length: PER_CLIENT }, () => sseClient(url)));
  const extra = await fetch(url, { headers: { accept: "application/json" } });
  expect(extra.status).toBe(503);
  expect(Number(extra.headers.get("retry-after"))).toBeGreaterThan(0);
  expect(((await extra.json()) as { error: string }).error).toContain(`at most ${PER_CLIENT}`);
  open.pop()!.close();
  let again: Response | null = null;
  await until("a stream slot after closing one", async () => {
    const r = await fetch(url);
    if (r.status === 200) again = r;
    else await r.body?.cancel();
    return r.status === 200;
  });
  await again!.body?.cancel();
  for (const c of open) c.close();
}, 60_000);
