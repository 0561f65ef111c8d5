import { afterAll, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { inflateRawSync } from "node:zlib";
import { crc32 } from "node:zlib";
import { STREAM_END } from "./deflate.ts";
import { DeflatePool, DeflateWorkerFailed } from "./deflatepool.ts";
import { until } from "../../test/support/wait.ts";

const dir = mkdtempSync(`${tmpdir()}/deflatepool-`);
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const text = (n: number, seed: number) => {
  let s = "";
  for (let i = 0; s.length < n; i++) s += `${seed},${i},${(i * 7919 + seed) % 1000},row\n`;
  return new TextEncoder().encode(s.slice(0, n));
};

/** A worker script that dies on its `n`-th task (1-based) and deflates the others like the real one. */
function dyingWorker(n: number): string {
  const path = `${dir}/dies-${n}.ts`;
  writeFileSync(path, `
    import { crc32 } from "node:zlib";
    import { deflateWhole, deflateChunk } from ${JSON.stringify(new URL("./deflate.ts", import.meta.url).pathname)};
    let seen = 0;
    self.onmessage = (e) => {
      if (++seen === ${n}) process.exit(3);
      const { id, kind, input } = e.data;
      const out = new Uint8Array(kind === "whole" ? deflateWhole(input) : deflateChunk(input));
      self.postMessage({ id, input, out, crc: kind === "whole" ? crc32(input) >>> 0 : null }, [input.buffer, out.buffer]);
    };`);
  return path;
}

describe("DeflatePool", () => {
  test("whole files and chunks come back deflated, with the input and its CRC, each to its own caller", async () => {
    const pool = new DeflatePool(2);
    try {
      const inputs = Array.from({ length: 12 }, (_, i) => text(50_000 + i * 1000, i));
      const copies = inputs.map((b) => new Uint8Array(b));
      const got = await Promise.all(inputs.map((b, i) => pool.deflate(i % 2 ? "chunk" : "whole", b)));
      for (const [i, g] of got.entries()) {
        expect(Buffer.from(g.input).equals(Buffer.from(copies[i]!))).toBe(true);
        const stream = i % 2 ? Buffer.concat([g.out, STREAM_END]) : g.out; // a chunk is sync-flushed, not final
        expect(Buffer.from(inflateRawSync(stream)).equals(Buffer.from(copies[i]!))).toBe(true);
        expect(g.crc).toBe(i % 2 ? null : crc32(copies[i]!) >>> 0);
      }
    } finally {
      await pool.close();
    }
  });

  test("a view of a larger buffer is copied, not moved: the rest of the buffer stays usable", async () => {
    const pool = new DeflatePool(1);
    try {
      const whole = text(100_000, 9);
      const view = whole.subarray(10, 60_000);
      const d = await pool.deflate("whole", view);
      expect(whole.length).toBe(100_000);
      expect(Buffer.from(inflateRawSync(d.out)).equals(Buffer.from(whole.subarray(10, 60_000)))).toBe(true);
    } finally {
      await pool.close();
    }
  });

  test("a worker that dies fails only its task; a new worker takes the next ones", async () => {
    const pool = new DeflatePool(1, dyingWorker(2));
    try {
      const a = pool.deflate("whole", text(10_000, 1));
      const b = pool.deflate("whole", text(10_000, 2));
      const c = pool.deflate("whole", text(10_000, 3));
      await expect(a).resolves.toMatchObject({ crc: expect.any(Number) });
      const err = await b.catch((e: unknown) => e);
      expect(err).toBeInstanceOf(DeflateWorkerFailed);
      await expect(c).resolves.toMatchObject({ crc: expect.any(Number) });
      expect(pool.workers).toBe(1);
    } finally {
      await pool.close();
    }
  });

  test("workers start on first need, at most `size`, and end when idle", async () => {
    const pool = new DeflatePool(2, undefined, 50);
    try {
      expect(pool.workers).toBe(0);
      const all = Promise.all(Array.from({ length: 5 }, (_, i) => pool.deflate("whole", text(300_000, i))));
      expect(pool.workers).toBe(2);
      await all;
      await until("the idle workers to end", () => pool.workers === 0);
      await expect(pool.deflate("chunk", text(1000, 1))).resolves.toMatchObject({ crc: null }); // and start again
    } finally {
      await pool.close();
    }
  });

  test("waiting tasks go biggest first; a waiting task whose signal aborts is dropped, never run", async () => {
    const ran: number[] = [];
    const pool = new DeflatePool(1);
    try {
      const stop = new AbortController();
      const first = pool.deflate("whole", text(1_000_000, 0)); // runs at once: the one worker is busy with it
      const sizes = [10_000, 300_000, 20_000, 300_000, 200_000];
      const waiting = sizes.map((n, i) => pool.deflate("whole", text(n, i + 1)).then((d) => void ran.push(d.input.length)));
      const dropped = pool.deflate("whole", text(900_000, 9), stop.signal).catch((e: unknown) => e);
      stop.abort();
      await first;
      await Promise.all(waiting);
      expect(ran).toEqual([300_000, 300_000, 200_000, 20_000, 10_000]);
      expect(await dropped).toBeInstanceOf(DeflateWorkerFailed);
      await expect(pool.deflate("whole", text(100, 1), stop.signal)).rejects.toBeInstanceOf(DeflateWorkerFailed);
    } finally {
      await pool.close();
    }
  });

  test("close ends every worker, fails what is queued, and is idempotent", async () => {
    const pool = new DeflatePool(2);
    const queued = Array.from({ length: 6 }, (_, i) => pool.deflate("whole", text(2_000_000, i)).catch((e: unknown) => e));
    expect(pool.workers).toBe(2);
    await pool.close();
    await pool.close();
    expect(pool.workers).toBe(0);
    for (const r of await Promise.all(queued)) expect(r).toBeInstanceOf(DeflateWorkerFailed);
    await expect(pool.deflate("whole", text(100, 1))).rejects.toBeInstanceOf(DeflateWorkerFailed);
  });

  test("a process whose pool is closed, or only idle, exits by itself: no worker is left holding it", async () => {
    const mod = JSON.stringify(new URL("./deflatepool.ts", import.meta.url).pathname);
    for (const close of [true, false]) {
      const script = `${dir}/exit-${close}.ts`;
      writeFileSync(script, `
        import { closeSharedPool, sharedPool } from ${mod};
        const d = await sharedPool().deflate("whole", new TextEncoder().encode("abc".repeat(10000)));
        console.log(d.out.length > 0 ? "deflated" : "empty");
        ${close ? "await closeSharedPool(); console.log('closed');" : ""}`);
      const p = Bun.spawn([process.execPath, script], { stdout: "pipe", stderr: "pipe" });
      expect(await p.exited).toBe(0);
      expect(await new Response(p.stdout).text()).toBe(close ? "deflated\nclosed\n" : "deflated\n");
    }
  }, 30_000);
});
