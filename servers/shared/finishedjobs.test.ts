/** The finished-job records in the shared store, and the import of an older compressor's JSON files. */
import { afterAll, expect, test } from "bun:test";
import { existsSync, mkdirSync, readdirSync, writeFileSync } from "node:fs";
import { describeEachDialect, type Place } from "../../test/support/dialects.ts";
import { newId } from "./ids.ts";
import { openDb, type Db } from "./db.ts";
import { FinishedJobs, legacyRecordsDir, type JobRecord } from "./finishedjobs.ts";

const opened: Db[] = [];
async function store(p: Place): Promise<FinishedJobs> {
  const db = await openDb(p.stateDir, "compressor", p.databaseUrl);
  opened.push(db);
  return FinishedJobs.open(db, legacyRecordsDir(p.stateDir));
}
const ready = (jobId: string, over: Partial<JobRecord> = {}): JobRecord => ({
  jobId, state: "ready", link: `http://x/d/f/${jobId}.zip?md5=a&expires=1`, expiresAt: "2030-01-02T03:04:05.000Z", bytes: 5_000_000_000, entries: 3,
  error: null, announced: false, finishedAt: "2026-12-01T10:00:00.000Z", ...over,
});

describeEachDialect("FinishedJobs", (place) => {
  afterAll(async () => {
    for (const d of opened.splice(0)) await d.close();
  });

  test("a record is kept as written; the first one of a job wins; announced and swept are noted", async () => {
    const s = await store(await place());
    const id = newId();
    expect(await s.get(id)).toBeNull();
    expect(await s.has(id)).toBe(false);
    expect(await s.create(ready(id))).toBe(true);
    expect(await s.get(id)).toEqual({ ...ready(id), swept: false });
    // a second compressor's ending for the same job is not recorded
    expect(await s.create({ ...ready(id), state: "failed", error: "late" })).toBe(false);
    expect((await s.get(id))!.state).toBe("ready");
    await s.markAnnounced(id);
    await s.markSwept(id);
    expect(await s.get(id)).toMatchObject({ announced: true, swept: true });
    expect(await s.ids()).toEqual([id]);
    await s.remove(id);
    expect(await s.has(id)).toBe(false);
    expect(await s.ids()).toEqual([]);
  });

  test("two openers of one store (two processes) see each other's records", async () => {
    const p = await place();
    const [a, b] = [await store(p), await store(p)];
    const id = newId();
    await a.create(ready(id, { state: "failed", link: null, expiresAt: null, error: "no files" }));
    expect(await b.get(id)).toMatchObject({ state: "failed", link: null, expiresAt: null, error: "no files" });
  });

  test("the JSON records of an older compressor are imported once, then their files removed", async () => {
    const p = await place();
    const dir = legacyRecordsDir(p.stateDir);
    mkdirSync(dir, { recursive: true });
    // as the older FinishedJobs.put wrote them: <id>.json, and a temp file a crash left behind
    const [a, b] = [newId(), newId()];
    writeFileSync(`${dir}/${a}.json`, JSON.stringify(ready(a, { announced: true })));
    writeFileSync(`${dir}/${b}.json`, JSON.stringify({ ...ready(b), state: "cancelled", link: null, expiresAt: null, error: "cancelled by its user", swept: undefined }));
    writeFileSync(`${dir}/${b}.json.4242.tmp`, "{half");
    const s = await store(p);
    expect(await s.get(a)).toEqual({ ...ready(a, { announced: true }), swept: false });
    expect(await s.get(b)).toMatchObject({ state: "cancelled", error: "cancelled by its user", announced: false });
    expect(readdirSync(dir)).toEqual([`${b}.json.4242.tmp`]);
    // opened again (a restart): nothing imported twice, nothing lost
    const again = await store(p);
    expect((await again.ids()).sort()).toEqual([a, b].sort());
    expect(existsSync(`${dir}/${a}.json`)).toBe(false);
  });
});
