import { afterAll, expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { ensureJobDir, outcomesCover, writeOutcome, type FileOutcome } from "./jobfiles.ts";

const dirs: string[] = [];
afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

const outcome = (index: number, total: number): FileOutcome => ({
  index, total, url: `https://a/${index}`, state: "done", name: `${index}.bin`, file: `00${index}-x-${index}.bin`, bytes: 1, crc32: 0, sha256: null, error: null,
});

test("a job's outcomes cover it when every index below its file count has one, and none past it", async () => {
  const dir = mkdtempSync(`${tmpdir()}/jobfiles-`);
  dirs.push(dir);
  await ensureJobDir(dir);
  expect(await outcomesCover(dir, 3)).toBe(false);
  await writeOutcome(dir, outcome(0, 3));
  await writeOutcome(dir, outcome(2, 3));
  expect(await outcomesCover(dir, 3)).toBe(false); // 1 is missing
  await writeOutcome(dir, outcome(1, 3));
  expect(await outcomesCover(dir, 3)).toBe(true);
  expect(await outcomesCover(dir, 2)).toBe(false); // one past the count
  expect(await outcomesCover(dir, 4)).toBe(false);
  expect(await outcomesCover(`${dir}/nowhere`, 1)).toBe(false);
  // the names cover 2 files, but the outcomes say the job has 3
  const other = mkdtempSync(`${tmpdir()}/jobfiles-`);
  dirs.push(other);
  await ensureJobDir(other);
  for (const i of [0, 1]) await writeOutcome(other, outcome(i, 3));
  expect(await outcomesCover(other, 2)).toBe(false);
});
