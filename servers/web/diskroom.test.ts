import { expect, test } from "bun:test";
import { tmpdir } from "node:os";
import { DiskRoom, freeBytes } from "./diskroom.ts";

test("room only while every volume has the minimum free; a volume that cannot be told is not judged", async () => {
  const free = new Map<string, number | null>([["/a", 5000], ["/b", 900], ["/c", null]]);
  const ask = async (p: string) => free.get(p) ?? null;
  expect(await new DiskRoom(["/a", "/c"], 1000, ask).hasRoom()).toBe(true);
  expect(await new DiskRoom(["/a", "/b"], 1000, ask).hasRoom()).toBe(false);
  expect(await new DiskRoom(["/a", "/b"], 900, ask).hasRoom()).toBe(true);
});

test("the file system is asked at most once per interval", async () => {
  let asked = 0;
  const room = new DiskRoom(["/a"], 1, async () => (asked++, 10), 60_000);
  await Promise.all([room.hasRoom(), room.hasRoom()]);
  await room.hasRoom();
  expect(asked).toBe(1);
});

test("freeBytes reads a real volume", async () => {
  expect(await freeBytes(tmpdir())).toBeGreaterThan(0);
  expect(await freeBytes("/no/such/folder")).toBeNull();
});
