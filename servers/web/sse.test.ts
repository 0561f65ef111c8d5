import { expect, test } from "bun:test";
import { formatSse, SseStream } from "./sse.ts";

test("formatSse: event, id, one data line per text line", () => {
  expect(formatSse({ event: "file-3", id: "7", data: "<b>a</b>\nsecond" })).toBe("event: file-3\nid: 7\ndata: <b>a</b>\ndata: second\n\n");
  expect(formatSse({ data: "" })).toBe("data: \n\n");
  expect(formatSse({ event: "x\ny", data: "z" })).toBe("event: xy\ndata: z\n\n");
});

test("a stream: headers, retry first, events, close ends the body and calls onClose once", async () => {
  let closes = 0;
  const s = new SseStream({ onClose: () => closes++ });
  expect(s.response.headers.get("content-type")).toStartWith("text/event-stream");
  expect(s.response.headers.get("x-accel-buffering")).toBe("no");
  expect(s.response.headers.get("cache-control")).toContain("no-cache");
  expect(s.send({ event: "a", data: "1" })).toBe(true);
  s.close();
  s.close();
  expect(s.send({ data: "late" })).toBe(false);
  const text = await s.response.text();
  expect(text).toStartWith("retry: ");
  expect(text).toEndWith("event: a\ndata: 1\n\n");
  expect(closes).toBe(1);
});

test("the client going away (abort) closes the stream", () => {
  const ac = new AbortController();
  let closed = false;
  const s = new SseStream({ signal: ac.signal, onClose: () => (closed = true) });
  ac.abort();
  expect(closed).toBe(true);
  expect(s.closed).toBe(true);
});

test("a client that reads nothing is cut off once its backlog passes the limit", () => {
  let closed = false;
  const s = new SseStream({ maxBacklogBytes: 10_000, onClose: () => (closed = true) });
  let sent = 0;
  while (s.send({ data: "x".repeat(1000) })) sent++;
  expect(sent).toBeGreaterThan(5);
  expect(sent).toBeLessThan(20);
  expect(closed).toBe(true);
});

test("heartbeat comments keep a quiet stream alive until it closes", async () => {
  const s = new SseStream({ heartbeatMs: 20 });
  const body = s.response.body!.getReader();
  const dec = new TextDecoder();
  let text = "";
  const heartbeats = () => text.match(/^: heartbeat$/gm)?.length ?? 0;
  // Read what the stream sends until it has sent two heartbeats (each read waits for the stream's next bytes).
  while (heartbeats() < 2) {
    const r = await body.read();
    if (r.done) throw new Error(`the stream ended after: ${text}`);
    text += dec.decode(r.value, { stream: true });
  }
  expect(s.closed).toBe(false);
  s.close();
  for (let r = await body.read(); !r.done; r = await body.read()) text += dec.decode(r.value, { stream: true });
  expect(heartbeats()).toBeGreaterThanOrEqual(2);
  expect(text).toStartWith("retry: ");
});
