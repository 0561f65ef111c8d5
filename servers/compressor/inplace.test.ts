/** writeZipInPlace and restoreInPlace on real files (ext4 here; another file system is refused, untouched). */
import { afterAll, describe, expect, test } from "bun:test";
import { linkSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { randomBytes } from "node:crypto";
import { tmpdir } from "node:os";
import { crc32 } from "node:zlib";
import { unzipSync } from "fflate";
import { ArchiveTooLarge } from "./errors.ts";
import { IN_PLACE_GAP, InPlaceRefused, mayTryOn, restoreInPlace, writeZipInPlace, type InPlaceFirst } from "./inplace.ts";
import { unzipTest } from "../../test/support/jobs.ts";

const dir = mkdtempSync(`${tmpdir()}/inplace-`);
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const free = async () => {};
let n = 0;

/** A downloaded file of `size` random bytes, as the compressor is given it. */
function downloaded(size = 3 * 1024 * 1024 + 17, where = dir): { first: InPlaceFirst; bytes: Buffer } {
  const bytes = randomBytes(size);
  const path = `${where}/file-${n++}.bin`;
  writeFileSync(path, bytes);
  return { first: { name: "video.mp4", path, size, crc32: crc32(bytes) >>> 0 }, bytes };
}

describe("writeZipInPlace", () => {
  test("the downloaded file becomes the archive (same file, nothing copied): its bytes, then the other entries, in order; unzip checks it", async () => {
    const { first, bytes } = downloaded();
    const ino = statSync(first.path).ino;
    const notes = `${dir}/notes-${n++}.txt`;
    writeFileSync(notes, "hello ".repeat(20_000));
    const done: number[] = [];
    const r = await writeZipInPlace(first, [{ name: "notes.txt", path: notes }, { name: "MANIFEST.sha256", data: new TextEncoder().encode("x  video.mp4\n") }], {
      guard: free,
      onProgress: (d) => done.push(d),
    });
    const st = statSync(first.path);
    expect(st.ino).toBe(ino);
    expect(st.size).toBe(r.bytes);
    expect(r.entries.map((e) => [e.name, e.method])).toEqual([["video.mp4", "store"], ["notes.txt", "deflate"], ["MANIFEST.sha256", "store"]]);
    const archive = readFileSync(first.path);
    // the entry's bytes sit right after its header, where they were moved to, not written again
    expect(archive.subarray(IN_PLACE_GAP, IN_PLACE_GAP + bytes.length).equals(bytes)).toBe(true);
    expect((await unzipTest(archive)).code).toBe(0);
    const zip = unzipSync(archive);
    expect(Object.keys(zip)).toEqual(["video.mp4", "notes.txt", "MANIFEST.sha256"]);
    expect(Buffer.from(zip["video.mp4"]!).equals(bytes)).toBe(true);
    expect(new TextDecoder().decode(zip["notes.txt"])).toBe("hello ".repeat(20_000));
    expect(done.at(-1)).toBe(bytes.length + 120_000 + 13);
  });

  test("refused with the file untouched: on a file system that cannot insert a range, a file not as downloaded, a guard that says no", async () => {
    const shm = mkdtempSync("/dev/shm/inplace-");
    try {
      const a = downloaded(64 * 1024, shm);
      expect(mayTryOn(statSync(shm).dev)).toBe(true);
      await expect(writeZipInPlace(a.first, [], { guard: free })).rejects.toBeInstanceOf(InPlaceRefused);
      expect(readFileSync(a.first.path).equals(a.bytes)).toBe(true);
      // that file system is not tried again; this one still is
      expect(mayTryOn(statSync(shm).dev)).toBe(false);
      expect(mayTryOn(statSync(dir).dev)).toBe(true);
    } finally {
      rmSync(shm, { recursive: true, force: true });
    }
    const b = downloaded(64 * 1024);
    await expect(writeZipInPlace({ ...b.first, size: b.first.size + 1 }, [], { guard: free })).rejects.toBeInstanceOf(InPlaceRefused);
    const lost = new Error("the claim is someone else's");
    await expect(writeZipInPlace(b.first, [], { guard: () => Promise.reject(lost) })).rejects.toBe(lost);
    expect(readFileSync(b.first.path).equals(b.bytes)).toBe(true);
  });

  test("an archive past the limit fails as too large, the file untouched", async () => {
    const { first, bytes } = downloaded(64 * 1024);
    const big = `${dir}/more-${n++}.bin`;
    writeFileSync(big, randomBytes(64 * 1024));
    await expect(writeZipInPlace(first, [{ name: "more.bin", path: big }], { guard: free, limit: 100 * 1024 })).rejects.toBeInstanceOf(ArchiveTooLarge);
    expect(readFileSync(first.path).equals(bytes)).toBe(true);
  });
});

describe("restoreInPlace", () => {
  test("puts a file made the archive back byte for byte, once; leaves a plain file and an archive already put in place alone", async () => {
    const { first, bytes } = downloaded();
    await writeZipInPlace(first, [{ name: "MANIFEST.sha256", data: new Uint8Array([1, 2, 3]) }], { guard: free });
    expect(await restoreInPlace(first.path, bytes.length)).toBe(true);
    expect(readFileSync(first.path).equals(bytes)).toBe(true);
    expect(await restoreInPlace(first.path, bytes.length)).toBe(false);

    // a file longer than its outcome says but not changed by us: left as it is
    const plain = downloaded(64 * 1024);
    expect(await restoreInPlace(plain.first.path, 1000)).toBe(false);
    expect(readFileSync(plain.first.path).equals(plain.bytes)).toBe(true);

    // made the archive and put in place (a second name): that archive is served, never undone
    const other = downloaded(64 * 1024);
    await writeZipInPlace(other.first, [], { guard: free });
    const archive = readFileSync(other.first.path);
    linkSync(other.first.path, `${dir}/published-${n++}.zip`);
    expect(await restoreInPlace(other.first.path, other.bytes.length)).toBe(false);
    expect(readFileSync(other.first.path).equals(archive)).toBe(true);
  });
});
