/** The link secret is per installation (mode 0600, under RUN_DIR) and never in the repository; links cannot be forged without it. */
import { expect, test } from "bun:test";
import { statSync } from "node:fs";
import { ROOT } from "../../servers/shared/config.ts";
import { idTime, isId, newId } from "../../servers/shared/ids.ts";
import { signLink } from "../../servers/shared/link.ts";
import { linkSecret } from "../../servers/shared/secrets.ts";
import { useStack } from "../stack.ts";
import { servePhotos } from "../support/fixtures.ts";
import { fetchLink, submit, waitFinal } from "../support/jobs.ts";

test("no secret, runtime state or archive is tracked by git", () => {
  const files = Bun.spawnSync(["git", "ls-files"], { cwd: ROOT }).stdout.toString().split("\n");
  expect(files.filter((f) => /(^|\/)(\.run|node_modules)\/|secret$|\.pid$|\.zip$/.test(f))).toEqual([]);
});

test("the stack's secrets are 0600; a link signed with another secret is refused", async () => {
  const { web, fixtures, config } = await useStack();
  expect(statSync(config.LINK_SECRET_FILE).mode & 0o777).toBe(0o600);
  expect(statSync(config.INTERNAL_TOKEN_FILE).mode & 0o777).toBe(0o600);
  const id = await submit(web, servePhotos(fixtures, "forge").slice(0, 1));
  const job = await waitFinal(web, id);
  const u = new URL(job.link!);
  const expires = Number(u.searchParams.get("expires"));
  const forged = signLink(u.origin, u.pathname, expires, linkSecret(config) + "x");
  expect((await fetchLink(forged)).status).toBe(403);
  expect((await fetchLink(job.link!)).status).toBe(200);
}, 60_000);

test("job ids are their creation time beside 96 random bits", () => {
  const now = Date.now();
  const ids = new Set(Array.from({ length: 10_000 }, () => newId(now)));
  expect(ids.size).toBe(10_000);
  for (const id of [...ids].slice(0, 100)) {
    expect(isId(id)).toBe(true);
    expect(idTime(id)).toBe(Math.floor(now / 1000) * 1000);
  }
  // every hex digit appears in every one of the 24 random positions over 10k ids (not a counter)
  const perPos = Array.from({ length: 24 }, (_, i) => new Set([...ids].map((x) => x[8 + i])).size);
  expect(Math.min(...perPos)).toBe(16);
});
