import { expect, test } from "bun:test";
import { HostLimit, HostSlot, hostKey } from "./hostlimit.ts";
import { settle } from "../../test/support/wait.ts";

test("at most perHost slots per host; other hosts are not held up; a slot passes straight to the next waiter", async () => {
  const limit = new HostLimit(2);
  const order: string[] = [];
  await limit.enter("a");
  await limit.enter("a");
  expect(limit.free("a")).toBe(false);
  expect(limit.free("b")).toBe(true);
  const third = limit.enter("a").then(() => order.push("third"));
  const fourth = limit.enter("a").then(() => order.push("fourth"));
  await settle();
  expect(order).toEqual([]);
  limit.leave("a");
  await third;
  expect([order, limit.active("a")]).toEqual([["third"], 2]);
  limit.leave("a");
  await fourth;
  limit.leave("a");
  limit.leave("a");
  expect([limit.active("a"), limit.free("a")]).toEqual([0, true]);
});

test("a wait given up (its signal aborted) takes no slot", async () => {
  const limit = new HostLimit(1);
  await limit.enter("h");
  const ac = new AbortController();
  const waiting = limit.enter("h", ac.signal);
  ac.abort(new Error("deadline"));
  await expect(waiting).rejects.toThrow("deadline");
  limit.leave("h");
  expect([limit.active("h"), limit.free("h")]).toEqual([0, true]);
});

test("a download's slot follows its hops: one host at a time, the previous one released first", async () => {
  const limit = new HostLimit(1);
  const slot = new HostSlot(limit);
  await slot.hop("first.example");
  expect(limit.active("first.example")).toBe(1);
  await slot.hop("victim.example");
  expect([limit.active("first.example"), limit.active("victim.example")]).toEqual([0, 1]);
  // another download redirected to the same victim waits for it
  const other = new HostSlot(limit);
  let got = false;
  const p = other.hop("victim.example").then(() => (got = true));
  await settle();
  expect(got).toBe(false);
  slot.release();
  await p;
  expect(limit.active("victim.example")).toBe(1);
  other.release();
  expect(limit.active("victim.example")).toBe(0);
});

test("hostKey", () => {
  expect(hostKey("https://Files.Example.com:8443/x")).toBe("files.example.com");
  expect(hostKey("nonsense")).toBe("");
});
