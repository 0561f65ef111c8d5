import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { unzipSync } from "fflate";
import { photos } from "../../test/support/fixtures.ts";
import { readdirSync, readlinkSync } from "node:fs";
import { ArchiveTooLarge } from "./errors.ts";
import { closeSharedPool, DeflatePool, DeflateWorkerFailed, sharedPool } from "./deflatepool.ts";
import { writeZip, type ZipSource } from "./zipwriter.ts";

let dir = "";
beforeAll(() => {
  dir = mkdtempSync(`${tmpdir()}/zipwriter-`);
});
afterAll(async () => {
  rmSync(dir, { recursive: true, force: true });
  await closeSharedPool();
});

/** Files under the test folder this process has open. */
const openHere = () =>
  readdirSync("/proc/self/fd").flatMap((fd) => {
    try {
      const target = readlinkSync(`/proc/self/fd/${fd}`);
      return target.startsWith(dir) ? [target] : [];
    } catch {
      return [];
    }
  });

/** Deterministic bytes: `random` ones do not compress, others are CSV-like text. */
function bytes(n: number, kind: "random" | "text", seed = 1): Uint8Array {
  const out = new Uint8Array(n);
  let a = seed >>> 0;
  if (kind === "random") {
    for (let i = 0; i < n; i++) out[i] = (a = (Math.imul(a, 1664525) + 1013904223) >>> 0) >>> 24;
    return out;
  }
  const words = ["alpha", "bravo", "charlie", "delta", "echo", "foxtrot"];
  let s = "";
  for (let i = 0; s.length < n; i++) s += `${i},${words[(a = (Math.imul(a, 1664525) + 1013904223) >>> 0) % 6]},${a % 1000}\n`;
  return new TextEncoder().encode(s.slice(0, n));
}

function file(name: string, data: Uint8Array, onDisk = name): ZipSource & { data: Uint8Array } {
  const path = `${dir}/${onDisk}`;
  writeFileSync(path, data);
  return { name, path, data };
}

/** `unzip -v` methods by entry name, and `unzip -t`'s exit code. */
function inspect(zipPath: string): { methods: Record<string, string>; testCode: number; testOut: string } {
  const v = Bun.spawnSync(["unzip", "-v", zipPath]).stdout.toString();
  const methods: Record<string, string> = {};
  for (const l of v.split("\n")) {
    const m = /^\s*\d+\s+(Stored|Defl:\w)\s+.*\s{2}(\S.*)$/.exec(l);
    if (m) methods[m[2]!] = m[1]!;
  }
  const t = Bun.spawnSync(["unzip", "-t", zipPath]);
  return { methods, testCode: t.exitCode, testOut: t.stdout.toString() + t.stderr.toString() };
}

describe("writeZip", () => {
  test("every entry round-trips byte for byte; compressed formats stored, text deflated; unzip -t passes", async () => {
    const pics = photos().slice(0, 3).map((p) => file(p.name, p.bytes));
    const sources = [
      ...pics,
      file("notes.txt", bytes(300_000, "text")),
      file("noise.bin", bytes(200_000, "random")),
      file("empty.txt", new Uint8Array(0)),
      file("tiny.txt", new TextEncoder().encode("hi")),
      file("big.csv", bytes(17 * 1024 * 1024 + 12345, "text", 2)), // above ONE_SHOT_MAX: streamed deflate
      file("big-noise.dat", bytes(3 * 1024 * 1024 + 7, "random", 3)), // streamed, sampled: stored
      file("naïve café.txt", bytes(5000, "text", 4), "utf8.txt"),
    ];
    const out = `${dir}/a.zip`;
    const seen: number[] = [];
    const res = await writeZip(out, sources, { onProgress: (d) => seen.push(d) });
    const total = sources.reduce((n, s) => n + s.data.length, 0);
    expect(res.entries.map((e) => e.name)).toEqual(sources.map((s) => s.name));
    expect(res.bytes).toBe(Bun.file(out).size);

    const got = unzipSync(new Uint8Array(await Bun.file(out).arrayBuffer()));
    expect(Object.keys(got)).toEqual(sources.map((s) => s.name));
    for (const s of sources) expect(Buffer.from(got[s.name]!).equals(Buffer.from(s.data))).toBe(true);

    const method = Object.fromEntries(res.entries.map((e) => [e.name, e.method]));
    for (const p of pics) expect(method[p.name]).toBe("store");
    expect(method).toMatchObject({ "notes.txt": "deflate", "noise.bin": "store", "empty.txt": "store", "tiny.txt": "store", "big.csv": "deflate", "big-noise.dat": "store", "naïve café.txt": "deflate" });
    const big = res.entries.find((e) => e.name === "big.csv")!;
    expect(big.compressedSize).toBeLessThan(big.size * 0.5);

    const { methods, testCode, testOut } = inspect(out);
    expect(testCode, testOut).toBe(0);
    expect(methods["notes.txt"]).toMatch(/^Defl/);
    expect(methods["big.csv"]).toMatch(/^Defl/);
    expect(methods["noise.bin"]).toBe("Stored");
    expect(methods[pics[0]!.name]).toBe("Stored");

    // progress: increasing, ending at the input total
    expect([...seen].sort((a, b) => a - b)).toEqual(seen);
    expect(seen.at(-1)).toBe(total);
    // CRCs as zlib computes them
    const { crc32 } = await import("node:zlib");
    for (const [i, e] of res.entries.entries()) expect(e.crc32).toBe(crc32(sources[i]!.data));
  }, 30_000);

  test("past the size limit: ArchiveTooLarge", async () => {
    const src = file("n.bin", bytes(5000, "random"));
    const err = await writeZip(`${dir}/b.zip`, [src], { limit: 4000 }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ArchiveTooLarge);
  });

  test("more entries than zip32 holds: ArchiveTooLarge before writing", async () => {
    const src = file("one.txt", new Uint8Array(1));
    const err = await writeZip(`${dir}/c.zip`, Array.from({ length: 65_536 }, () => src)).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ArchiveTooLarge);
  });

  test("an aborted write stops with the signal's reason", async () => {
    const src = file("x.txt", bytes(100_000, "text"));
    const ac = new AbortController();
    ac.abort(new Error("stop"));
    await expect(writeZip(`${dir}/d.zip`, [src], { signal: ac.signal })).rejects.toThrow("stop");
  });

  test("never overwrites an existing file", async () => {
    writeFileSync(`${dir}/e.zip`, "keep");
    await expect(writeZip(`${dir}/e.zip`, [file("y.txt", bytes(10, "text"))])).rejects.toThrow();
  });

  test("entries stay in order when small files finish deflating before big ones; every byte and CRC right", async () => {
    const pool = new DeflatePool(2);
    try {
      const sizes = [6_000_000, 2_000, 3_000_000, 500, 9_000_000, 70_000, 1_500_000, 100, 4_000_000, 300_000, 20_000, 2_500_000];
      const sources = sizes.map((n, i) => file(`part-${String(i).padStart(2, "0")}.csv`, bytes(n, "text", 10 + i)));
      const out = `${dir}/order.zip`;
      const res = await writeZip(out, sources, { pool });
      expect(res.entries.map((e) => e.name)).toEqual(sources.map((s) => s.name));
      const got = unzipSync(new Uint8Array(await Bun.file(out).arrayBuffer()));
      expect(Object.keys(got)).toEqual(sources.map((s) => s.name));
      const { crc32 } = await import("node:zlib");
      for (const [i, s] of sources.entries()) {
        expect(Buffer.from(got[s.name]!).equals(Buffer.from(s.data))).toBe(true);
        expect(res.entries[i]!.crc32).toBe(crc32(s.data) >>> 0);
      }
      expect(inspect(out).testCode).toBe(0);
    } finally {
      await pool.close();
    }
  }, 30_000);

  test("a deflate worker that dies fails the write cleanly: the error says so, no file is left open", async () => {
    const dies = `${dir}/dies.ts`;
    writeFileSync(dies, "self.onmessage = () => process.exit(3);");
    const pool = new DeflatePool(2, dies);
    try {
      const sources = [file("a.csv", bytes(400_000, "text", 1)), file("b.csv", bytes(20 * 1024 * 1024, "text", 2)), file("c.csv", bytes(300_000, "text", 3))];
      const err = await writeZip(`${dir}/dies.zip`, sources, { pool }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(DeflateWorkerFailed);
      // nothing the write opened (the other worker may still be loading its script, `dies`)
      expect(openHere().filter((p) => p !== dies)).toEqual([]);
    } finally {
      await pool.close();
    }
    expect(pool.workers).toBe(0);
  }, 30_000);

  test("an archive past the background-sync step (32 MiB) is whole and right", async () => {
    const sources = [file("a.dat", bytes(20 * 1024 * 1024, "random", 5)), file("b.dat", bytes(30 * 1024 * 1024 + 3, "random", 6)), file("c.txt", bytes(1_000_000, "text", 7))];
    const out = `${dir}/synced.zip`;
    const res = await writeZip(out, sources);
    expect(res.bytes).toBe(Bun.file(out).size);
    expect(res.bytes).toBeGreaterThan(50 * 1024 * 1024);
    const { testCode, testOut } = inspect(out);
    expect(testCode, testOut).toBe(0);
    rmSync(out);
  }, 60_000);

  test("the shared pool is made on first use and closing it ends its workers (the compressor's shutdown)", async () => {
    const p = sharedPool();
    await writeZip(`${dir}/shared.zip`, [file("s.txt", bytes(200_000, "text", 8))]);
    expect(p.workers).toBeGreaterThan(0);
    await closeSharedPool();
    expect(p.workers).toBe(0);
    expect(sharedPool()).not.toBe(p); // a later write gets a new one
  });
});
