/**
 * A full disk fails the file that hit it, with a clear error; the job still
 * ends (ready with what did fit) and the next job goes on normally.
 * Uses a small tmpfs mounted over DOWNLOADS_DIR (needs root, as CI runs).
 */
import { afterAll, expect, test } from "bun:test";
import { existsSync } from "node:fs";
import { useStack } from "../stack.ts";
import { jobDir } from "../../servers/shared/jobfiles.ts";
import { entries, fetchLink, getJob, submit, waitFinal } from "../support/jobs.ts";
import { until } from "../support/wait.ts";

let mounted: string | null = null;
afterAll(() => {
  if (mounted) Bun.spawnSync(["umount", "-l", mounted]);
});

test("disk full for one job: that file fails with a clear error, other jobs go on", async () => {
  const { web, fixtures, config } = await useStack();
  expect(process.getuid?.(), "this test mounts a tmpfs and must run as root (CI does)").toBe(0);
  const m = Bun.spawnSync(["mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", config.DOWNLOADS_DIR]);
  expect(m.exitCode, m.stderr.toString()).toBe(0);
  mounted = config.DOWNLOADS_DIR;

  // The big file is sent once the small one is in: which of two files racing for the last free
  // bytes loses is not what this test is about (a downloader writes a megabyte at a time).
  let sendBig!: () => void;
  const smallIn = new Promise<void>((resolve) => (sendBig = resolve));
  const big = fixtures.route("/disk/big.bin", async () => {
    await smallIn;
    return new Response(new Uint8Array(3 * 1024 * 1024).fill(7));
  });
  const small = fixtures.route("/disk/small.txt", "fits\n".repeat(100), "text/plain");
  const a = await submit(web, [big, small]);
  await until("the small file to be in", async () => (await getJob(web, a)).files[1]?.state === "done");
  sendBig();
  const jobA = await waitFinal(web, a);
  expect(jobA.state).toBe("ready");
  expect(jobA.files[0]!.state).toBe("failed");
  expect(jobA.files[0]!.error).toMatch(/disk|space/i);
  expect(jobA.files[1]!.state).toBe("done");
  expect(Object.keys(entries((await fetchLink(jobA.link!)).body))).toEqual(["small.txt"]);

  const b = await submit(web, [small, fixtures.route("/disk/other.txt", "also fits\n", "text/plain")]);
  const jobB = await waitFinal(web, b);
  expect(jobB.state).toBe("ready");
  expect(jobB.files.every((f) => f.state === "done")).toBe(true);

  // The compressor removes a job's folder after announcing it: once both are gone nothing holds the tmpfs.
  await until("both job folders to be removed", () => ![a, b].some((id) => existsSync(jobDir(config, id))));
  expect(Bun.spawnSync(["umount", config.DOWNLOADS_DIR]).exitCode).toBe(0);
  mounted = null;
}, 120_000);
