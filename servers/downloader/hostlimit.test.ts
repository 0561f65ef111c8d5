import { expect, test } from "bun:test";
import { HostLimit, hostKey } from "./hostlimit.ts";

test("at most perHost tasks per host run at once; other hosts are not held up; slots are handed on", async () => {
  const limit = new HostLimit(2);
  const running = new Map<string, number>();
  const peak = new Map<string, number>();
  const gates: (() => void)[] = [];
  const task = (host: string) =>
    limit.run(host, async () => {
      running.set(host, (running.get(host) ?? 0) + 1);
      peak.set(host, Math.max(peak.get(host) ?? 0, running.get(host)!));
      await new Promise<void>((r) => gates.push(r));
      running.set(host, running.get(host)! - 1);
      return host;
    });
  const all = [...Array.from({ length: 5 }, () => task("a.example")), task("b.example")];
  await Bun.sleep(0);
  expect(limit.active("a.example")).toBe(2);
  expect(limit.active("b.example")).toBe(1);
  while (gates.length) {
    gates.shift()!();
    await Bun.sleep(0);
  }
  expect(await Promise.all(all)).toEqual([...Array(5).fill("a.example"), "b.example"]);
  expect(peak.get("a.example")).toBe(2);
  expect(limit.active("a.example")).toBe(0);
});

test("a failing task frees its slot", async () => {
  const limit = new HostLimit(1);
  await limit.run("h", async () => Promise.reject(new Error("x"))).catch(() => {});
  expect(await limit.run("h", async () => "next")).toBe("next");
});

test("hostKey", () => {
  expect(hostKey("https://Files.Example.com:8443/x")).toBe("files.example.com");
  expect(hostKey("nonsense")).toBe("");
});
