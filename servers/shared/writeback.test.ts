import { expect, test } from "bun:test";
import { BackgroundSync, EARLY_SYNC } from "./writeback.ts";

/** A file whose datasyncs are counted and finish when `finish` is called. */
function fakeFile(fail = false) {
  const pending: (() => void)[] = [];
  let calls = 0;
  return {
    file: { datasync: () => (calls++, new Promise<void>((resolve, reject) => pending.push(() => (fail ? reject(new Error("EIO")) : resolve())))) },
    calls: () => calls,
    finish: () => pending.splice(0).forEach((f) => f()),
  };
}

test("a datasync every EARLY_SYNC bytes, never two at once, none for a small file", async () => {
  const f = fakeFile();
  const w = new BackgroundSync(f.file);
  w.wrote(EARLY_SYNC - 1);
  expect(f.calls()).toBe(0);
  w.wrote(EARLY_SYNC);
  expect(f.calls()).toBe(1);
  w.wrote(3 * EARLY_SYNC); // one runs still: no second
  expect(f.calls()).toBe(1);
  f.finish();
  await w.idle();
  w.wrote(3 * EARLY_SYNC);
  expect(f.calls()).toBe(2);
  f.finish();
  await w.idle();
  expect(w.failure).toBeNull();
});

test("counts from what a resumed file held; a failed datasync is kept for the writer", async () => {
  const f = fakeFile(true);
  const w = new BackgroundSync(f.file, 10 * EARLY_SYNC);
  w.wrote(10 * EARLY_SYNC + 1);
  expect(f.calls()).toBe(0);
  w.wrote(11 * EARLY_SYNC);
  f.finish();
  await w.idle();
  expect((w.failure as Error).message).toBe("EIO");
});
