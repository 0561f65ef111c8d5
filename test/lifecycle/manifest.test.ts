/**
 * Archives prove their contents, through the shared stack: MANIFEST.sha256
 * passes `sha256sum -c` after unzipping, FAILED.txt names each failed URL
 * with its reason, the job JSON gives each file's SHA-256, and a downloaded
 * file named like the archive's own files gets another entry name.
 */
import { afterAll, expect, test } from "bun:test";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { newId } from "../../servers/shared/ids.ts";
import { useStack } from "../stack.ts";
import { photos, servePhotos } from "../support/fixtures.ts";
import { allEntries, fetchLink, submit, waitFinal } from "../support/jobs.ts";

const dir = mkdtempSync(`${tmpdir()}/linkpack-manifest-`);
afterAll(() => rmSync(dir, { recursive: true, force: true }));

test("MANIFEST.sha256 checks out with sha256sum -c; FAILED.txt names the 404; reserved names are kept for the archive", async () => {
  const { web, fixtures } = await useStack();
  const prefix = `manifest-${newId()}`;
  const urls = servePhotos(fixtures, prefix).slice(0, 3);
  const missing = `${fixtures.origin}/${prefix}/missing.jpg`;
  const impostor = fixtures.route(`/${prefix}/MANIFEST.sha256`, "not the manifest\n", "text/plain");
  const job = await waitFinal(web, await submit(web, [...urls, missing, impostor]));
  expect(job.state).toBe("ready");
  for (const [i, p] of photos().slice(0, 3).entries()) expect(job.files[i]!.sha256).toBe(new Bun.CryptoHasher("sha256").update(p.bytes).digest("hex"));
  expect(job.files[3]!.sha256).toBeNull();

  const zip = allEntries((await fetchLink(job.link!)).body);
  const names = Object.keys(zip);
  expect(names).toContain("MANIFEST.sha256");
  expect(names).toContain("FAILED.txt");
  // the downloaded file called MANIFEST.sha256 is kept under another name
  expect(names.filter((n) => n.startsWith("MANIFEST")).sort()).toEqual(["MANIFEST (2).sha256", "MANIFEST.sha256"]);
  expect(new TextDecoder().decode(zip["MANIFEST (2).sha256"])).toBe("not the manifest\n");
  for (const [name, data] of Object.entries(zip)) writeFileSync(`${dir}/${name}`, data);
  const check = Bun.spawnSync(["sha256sum", "-c", "MANIFEST.sha256"], { cwd: dir });
  expect(check.exitCode, check.stdout.toString() + check.stderr.toString()).toBe(0);
  expect(check.stdout.toString().trim().split("\n").length).toBe(4); // 3 photos and the impostor, every one OK
  const failed = readFileSync(`${dir}/FAILED.txt`, "utf8");
  expect(failed).toContain(missing);
  expect(failed).toContain("HTTP 404 Not Found");
}, 60_000);
