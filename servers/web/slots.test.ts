import { expect, test } from "bun:test";
import { Slots } from "./slots.ts";

test("a key gets at most its cap; a release frees exactly one slot, however often it is called", () => {
  const s = new Slots(10, 2);
  const a = s.take("a");
  const b = s.take("a");
  expect(a.ok && b.ok).toBe(true);
  expect(s.take("a")).toEqual({ ok: false, full: "key" });
  expect(s.take("b").ok).toBe(true); // another key is not affected
  if (a.ok) {
    a.release();
    a.release();
  }
  expect(s.count("a")).toBe(1);
  expect(s.size).toBe(2);
  expect(s.take("a").ok).toBe(true);
  expect(s.take("a")).toEqual({ ok: false, full: "key" });
});

test("the total cap holds across keys, and frees up again", () => {
  const s = new Slots(3, 100);
  const held = ["a", "b", "c"].map((k) => s.take(k));
  expect(s.take("d")).toEqual({ ok: false, full: "total" });
  const first = held[0]!;
  if (first.ok) first.release();
  expect(s.take("d").ok).toBe(true);
  expect(s.size).toBe(3);
});
