import { afterAll, describe, expect, test } from "bun:test";
import { createHash } from "node:crypto";
import { deflateSync } from "node:zlib";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { writeKeystream } from "./corpora.ts";
import { textFile } from "../lib/samples.ts";

const dir = mkdtempSync(`${tmpdir()}/linkpack-bench-corpora-`);
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const sha = (b: Uint8Array) => createHash("sha256").update(b).digest("hex");

describe("corpus generators", () => {
  test("text files are the same for the same seed, different for another, whole lines within the size", () => {
    for (const kind of ["csv", "json", "log"] as const) {
      const a = textFile(kind, 200_000, 42);
      expect(sha(textFile(kind, 200_000, 42))).toBe(sha(a));
      expect(sha(textFile(kind, 200_000, 43))).not.toBe(sha(a));
      expect(a.length).toBeLessThanOrEqual(200_000);
      expect(a.length).toBeGreaterThan(199_000);
      expect(a.at(-1)).toBe(0x0a);
    }
  });

  test("text files compress like real exports and logs (deflate to 15-40%)", () => {
    for (const kind of ["csv", "json", "log"] as const) {
      const a = textFile(kind, 300_000, 1);
      const r = deflateSync(a, { level: 6 }).length / a.length;
      expect(r).toBeGreaterThan(0.15);
      expect(r).toBeLessThan(0.4);
    }
    const line = textFile("json", 2000, 5).toString().split("\n")[0]!;
    expect(JSON.parse(line).id).toBe(500000);
  });

  test("the keystream file is deterministic, exactly sized and incompressible", async () => {
    const size = 3 * 1024 * 1024 + 123;
    await writeKeystream(`${dir}/a.bin`, size);
    await writeKeystream(`${dir}/b.bin`, size);
    const a = readFileSync(`${dir}/a.bin`);
    expect(a.length).toBe(size);
    expect(sha(readFileSync(`${dir}/b.bin`))).toBe(sha(a));
    expect(deflateSync(a.subarray(0, 1 << 20)).length).toBeGreaterThan(1 << 20);
  });
});
