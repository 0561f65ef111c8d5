/** The harness itself: the real stack comes up healthy and answers on its ports; PostgreSQL tests are never skipped silently in CI. */
import { expect, test } from "bun:test";
import { useStack } from "./stack.ts";
import { freshDatabase, postgresAvailable } from "./support/postgres.ts";
import { SQL } from "bun";

test("the test stack is up: web healthz 200, nginx 404 elsewhere", async () => {
  const s = await useStack();
  expect((await fetch(`${s.web}/healthz`)).status).toBe(200);
  expect((await fetch(`http://127.0.0.1:${s.config.NGINX_PORT}/`)).status).toBe(404);
}, 120_000);

test("without PostgreSQL the PostgreSQL variants are skipped, except in CI, where that fails", () => {
  expect(postgresAvailable({ installed: true, installable: false, ci: true })).toBe(true);
  expect(postgresAvailable({ installed: false, installable: true, ci: true })).toBe(true); // it gets installed
  expect(postgresAvailable({ installed: false, installable: false, ci: false })).toBe(false);
  expect(() => postgresAvailable({ installed: false, installable: false, ci: true })).toThrow("CI: the PostgreSQL store tests must run");
});

test.skipIf(!postgresAvailable())("each test database is new and empty, and gone once dropped", async () => {
  const [a, b] = [await freshDatabase(), await freshDatabase()];
  expect(a.url).not.toBe(b.url);
  const sql = new SQL(a.url);
  try {
    expect(await sql`SELECT table_name FROM information_schema.tables WHERE table_schema = 'public'`).toHaveLength(0);
  } finally {
    await sql.close();
  }
  await a.drop();
  await b.drop();
  const gone = new SQL(a.url);
  try {
    await expect(gone`SELECT 1`).rejects.toThrow();
  } finally {
    await gone.close();
  }
});
