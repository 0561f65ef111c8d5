/**
 * MAX_JOB_BYTES at the commit of a file (budget.ts commitWithin): commits of
 * one job run side by side, the earlier one wins when two would not both
 * fit, and one that gives up no longer counts.
 */
import { afterAll, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { rename } from "node:fs/promises";
import { tmpdir } from "node:os";
import { ensureJobDir, writeOutcome } from "../shared/jobfiles.ts";
import { commitWithin } from "./budget.ts";

const dirs: string[] = [];
afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

const limits = { MAX_FILE_BYTES: 1000, MAX_JOB_BYTES: 1000 };

async function jobFolder(): Promise<string> {
  const dir = mkdtempSync(`${tmpdir()}/budget-test-`);
  dirs.push(dir);
  await ensureJobDir(dir);
  return dir;
}

/** A file of `bytes` in `.tmp/`, and the rename that puts it into place as URL `index`'s data file. */
function staged(dir: string, index: number, bytes: number) {
  const tmp = `${dir}/.tmp/${index}.part`;
  writeFileSync(tmp, new Uint8Array(bytes));
  return () => rename(tmp, `${dir}/${String(index).padStart(3, "0")}-x-f${index}`);
}

/** A promise and the functions that settle it. */
function gate() {
  let open!: () => void, fail!: (e: Error) => void;
  const p = new Promise<void>((res, rej) => ((open = res), (fail = rej)));
  return { p, open, fail };
}

/** URL 0's commit of `bytes`, which puts its file into place once `held` opens. */
const heldCommit = (dir: string, bytes: number, held: ReturnType<typeof gate>) =>
  commitWithin(limits, dir, 0, bytes, async () => {
    await held.p;
    await staged(dir, 0, bytes)();
  });

describe("commitWithin", () => {
  test("commits that fit together run side by side (a slow one holds up no other)", async () => {
    const dir = await jobFolder();
    const slow = gate();
    const first = heldCommit(dir, 400, slow);
    await commitWithin(limits, dir, 1, 500, staged(dir, 1, 500)); // resolves while the first still waits
    slow.open();
    await first;
  });

  test("of two commits that would not both fit, the earlier wins and the later fails", async () => {
    const dir = await jobFolder();
    const slow = gate();
    const first = heldCommit(dir, 600, slow);
    const second = commitWithin(limits, dir, 1, 600, staged(dir, 1, 600));
    slow.open();
    await first;
    await expect(second).rejects.toThrow("the job would exceed its limit of 1000 bytes");
  });

  test("a later commit that would not fit waits for an earlier one; if that one fails, the later one goes in", async () => {
    const dir = await jobFolder();
    const slow = gate();
    const first = commitWithin(limits, dir, 0, 600, async () => {
      await slow.p;
    });
    const later = commitWithin(limits, dir, 1, 600, staged(dir, 1, 600)).then(() => "in");
    // a bounded look for the negative: it has not gone in while the first may still succeed
    expect(await Promise.race([later, Bun.sleep(100).then(() => "waiting")])).toBe("waiting");
    slow.fail(new Error("disk full"));
    await expect(first).rejects.toThrow("disk full");
    expect(await later).toBe("in");
  });

  test("finished files of the job count, from their outcomes", async () => {
    const dir = await jobFolder();
    await writeOutcome(dir, { index: 0, url: "x", state: "done", name: "a", file: "000-a", bytes: 700, crc32: 0, error: null });
    await expect(commitWithin(limits, dir, 1, 301, staged(dir, 1, 301))).rejects.toThrow("the job would exceed its limit");
    await commitWithin(limits, dir, 2, 300, staged(dir, 2, 300));
  });
});
