import { expect, test } from "bun:test";
import { readSse, type SseEvent } from "./sse-reader.ts";

const streamOf = (...parts: string[]) =>
  new ReadableStream<Uint8Array>({
    start(c) {
      for (const p of parts) c.enqueue(new TextEncoder().encode(p));
      c.close();
    },
  });

test("events split across chunks, comments, multi-line data, CRLF, last id kept", async () => {
  const out: SseEvent[] = [];
  for await (const e of readSse(streamOf("retry: 2000\n: hi\n\nevent: file-1\nid: 3\nda", "ta: <a>\ndata: b\n\n", "event: clock\r\ndata: 12\r\n\r\n", "data: x\n\n")))
    out.push(e);
  expect(out).toEqual([
    { event: "file-1", data: "<a>\nb", id: "3" },
    { event: "clock", data: "12", id: "3" },
    { event: "message", data: "x", id: "3" },
  ]);
});
