import { expect, test } from "bun:test";
import { newJob } from "../servers/shared/jobstate.ts";
import { bytes, clockTime, countdown, duration, elapsed, fileName, host, overall } from "./format.ts";

test("sizes, durations, countdowns, clock", () => {
  expect(bytes(0)).toBe("0 B");
  expect(bytes(999)).toBe("999 B");
  expect(bytes(1536)).toBe("1.54 KB");
  expect(bytes(6_440_000)).toBe("6.44 MB");
  expect(bytes(123_456_789)).toBe("123 MB");
  expect(duration(42_400)).toBe("42s");
  expect(duration(187_000)).toBe("3m 07s");
  expect(duration(3_720_000)).toBe("1h 02m");
  expect(countdown(3_598_500)).toBe("59:59");
  expect(countdown(59_000)).toBe("0:59");
  expect(countdown(3_723_000)).toBe("1:02:03");
  expect(countdown(0)).toBe("expired");
  expect(clockTime(Date.parse("2030-01-02T03:04:05.678Z"))).toBe("03:04:05 UTC");
});

test("names and hosts from URLs; overall counts", () => {
  expect(fileName({ name: null, url: "https://h.example:8443/a/b%20c.jpg?x=1" })).toBe("b c.jpg");
  expect(fileName({ name: "given.png", url: "https://h/x" })).toBe("given.png");
  expect(fileName({ name: null, url: "https://h.example/" })).toBe("h.example");
  expect(host("https://h.example:8443/a")).toBe("h.example:8443");
  const j = newJob("e".repeat(32), ["https://h/1", "https://h/2"], new Date(1000));
  j.files[0] = { ...j.files[0]!, state: "done", bytes: 100, total: 100 };
  j.files[1] = { ...j.files[1]!, state: "downloading", bytes: 50, total: 200 };
  expect(overall(j)).toEqual({ done: 1, failed: 0, count: 2, got: 150, expected: 300, percent: 62 });
  expect(elapsed(j, 6000)).toBe(5000);
  expect(elapsed({ ...j, finished_at: 4000 }, 6000)).toBe(3000);
});
