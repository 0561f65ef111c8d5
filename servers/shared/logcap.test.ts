import { afterAll, expect, test } from "bun:test";
import { closeSync, mkdtempSync, openSync, readFileSync, rmSync, statSync, writeSync } from "node:fs";
import { tmpdir } from "node:os";
import { capLog } from "./logcap.ts";

const dir = mkdtempSync(`${tmpdir()}/logcap-`);
afterAll(() => rmSync(dir, { recursive: true, force: true }));

test("past the cap the log is kept as .1 and emptied; appending goes on at the start", () => {
  const path = `${dir}/web.log`;
  const fd = openSync(path, "a");
  try {
    writeSync(fd, "x".repeat(50));
    expect(capLog(100, fd)).toBe(false);
    writeSync(fd, "y".repeat(60));
    expect(capLog(100, fd)).toBe(true);
    expect(readFileSync(`${path}.1`, "utf8")).toBe("x".repeat(50) + "y".repeat(60));
    expect(statSync(path).size).toBe(0);
    writeSync(fd, "after\n");
    expect(readFileSync(path, "utf8")).toBe("after\n");
  } finally {
    closeSync(fd);
  }
});

test("output that is not a file is left alone", () => {
  expect(capLog(1, 99999)).toBe(false);
});
