import { afterEach, expect, test } from "bun:test";
import { Database } from "bun:sqlite";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { openDb, type Db } from "../shared/db.ts";
import { describeEachDialect, type Place } from "../../test/support/dialects.ts";
import { Ledger } from "./ledger.ts";

const key = `/d/${"a".repeat(32)}/${"b".repeat(32)}.zip`;
const MB = 1024 * 1024;
let opened: Db[] = [];
afterEach(async () => {
  for (const d of opened) await d.close();
  opened = [];
});
const granted = async (l: Ledger, start: number, size: number, now?: number) => {
  const r = await l.take(key, start, size, now);
  if (r.state !== "granted") throw new Error(`not granted: ${JSON.stringify(r)}`);
  return r.token;
};
type Options = { leaseMs: number; overlapBytes: number; machine?: string };

describeEachDialect("Ledger", (place) => {
  const openAt = async (p: Place) => {
    const db = await openDb(p.stateDir, "linkguard", p.databaseUrl);
    opened.push(db);
    return db;
  };
  let shared: Place | null = null;
  /** A ledger on this test's own place (or `at`, to open the same one again: a restart, another guard). */
  async function ledger(o: Options = { leaseMs: 60_000, overlapBytes: 4 * MB }, at?: Place): Promise<Ledger> {
    return Ledger.open(await openAt(at ?? (shared = await place())), o);
  }

  test("one GET at a time; a whole 200 uses the link up for good", async () => {
    const l = await ledger();
    const t = await granted(l, 0, 10 * MB);
    expect((await l.take(key, 0, 10 * MB)).state).toBe("busy");
    const [a] = await l.applyLines("log", 1, 100, [{ token: t, status: 200, bytes: 10 * MB }]);
    expect(a).toEqual({ key, delivered: 10 * MB, size: 10 * MB, used: true });
    expect(await l.take(key, 0, 10 * MB)).toEqual({ state: "used" });
    expect(await l.used(key)).toBe(true);
  });

  test("a cut-off GET: the next may start at the delivered point minus the overlap, never before", async () => {
    const l = await ledger();
    const t = await granted(l, 0, 64 * MB);
    await l.applyLines("log", 1, 1, [{ token: t, status: 200, bytes: 30 * MB }]);
    expect(await l.take(key, 0, 64 * MB)).toEqual({ state: "behind", delivered: 30 * MB, resumeFrom: 26 * MB, size: 64 * MB });
    expect((await l.take(key, 26 * MB - 1, 64 * MB)).state).toBe("behind");
    const t2 = await granted(l, 28 * MB, 64 * MB);
    // a 206 from 28 MiB that sent the rest
    const [a] = await l.applyLines("log", 1, 2, [{ token: t2, status: 206, bytes: 36 * MB }]);
    expect(a!.used).toBe(true);
  });

  test("a cut-off GET within the overlap may start again from 0", async () => {
    const l = await ledger();
    const t = await granted(l, 0, 64 * MB);
    await l.applyLines("log", 1, 1, [{ token: t, status: 200, bytes: 3 * MB }]);
    expect((await l.take(key, 0, 64 * MB)).state).toBe("granted");
  });

  test("error answers carry no archive bytes; unknown and stale tokens change nothing", async () => {
    const l = await ledger();
    const t = await granted(l, 5 * MB, 64 * MB);
    expect(await l.applyLines("log", 1, 1, [{ token: "f".repeat(32), status: 200, bytes: 64 * MB }])).toEqual([]);
    expect((await l.get(key))!.leased).toBe(true);
    await l.applyLines("log", 1, 2, [{ token: t, status: 416, bytes: 197 }]);
    expect(await l.get(key)).toEqual({ size: 64 * MB, delivered: 0, used: false, leased: false });
    // the same line again (its token is spent) does nothing
    expect(await l.applyLines("log", 1, 3, [{ token: t, status: 200, bytes: 64 * MB }])).toEqual([]);
    expect((await l.get(key))!.used).toBe(false);
  });

  test("a lease with no line lapses into 'used', never into 'free'; its late line is ignored", async () => {
    const l = await ledger({ leaseMs: 1000, overlapBytes: 0 });
    const t = await granted(l, 0, MB, 0);
    expect(await l.take(key, 0, MB, 999)).toMatchObject({ state: "busy", retryAfterMs: 1 });
    expect(await l.take(key, 0, MB, 1000)).toEqual({ state: "used" });
    expect(await l.applyLines("log", 1, 1, [{ token: t, status: 200, bytes: 10 }])).toEqual([]);
    expect(await l.used(key)).toBe(true);
    const other = key.replace("/d/a", "/d/c");
    await l.take(other, 0, MB, 0);
    expect(await l.lapse(5000)).toEqual([other]);
    expect(await l.unburned()).toEqual(expect.arrayContaining([key, other]));
    await l.markBurned(key);
    expect(await l.unburned()).toEqual([other]);
  });

  test("the log position is saved with the lines, and everything survives a restart", async () => {
    const l = await ledger();
    const dir = shared!;
    const t = await granted(l, 0, 10 * MB);
    await l.applyLines("/var/log/x", 42, 1234, [{ token: t, status: 200, bytes: MB }]);
    const again = await ledger(undefined, dir);
    expect(await again.logPosition("/var/log/x")).toEqual({ inode: 42, pos: 1234 });
    expect(await again.get(key)).toEqual({ size: 10 * MB, delivered: MB, used: false, leased: false });
  });

  test("a link is forgotten only once it has expired, and never while leased or used with its archive still there", async () => {
    const l = await ledger({ leaseMs: 60_000, overlapBytes: 0 });
    const other = (c: string) => key.replace("/d/a", `/d/${c}`);
    const [burned, partial, leased, unburned] = [key, other("c"), other("e"), other("f")];
    const finish = async (k: string, bytes: number) => {
      const r = await l.take(k, 0, MB, 0, 10_000);
      if (r.state !== "granted") throw new Error(r.state);
      await l.applyLines("log", 1, 1, [{ token: r.token, status: 200, bytes }], 0);
    };
    await finish(burned, MB);
    await l.markBurned(burned, 0);
    await finish(partial, MB / 2);
    await finish(unburned, MB);
    await l.take(leased, 0, MB, 0, 10_000);
    expect(await l.prune(10_000, 1)).toBe(0); // not expired yet
    expect(await l.prune(10_001, 1)).toBe(2); // the burned and the half-delivered one
    expect([await l.get(burned), await l.get(partial)]).toEqual([null, null]);
    expect((await l.get(leased))!.leased).toBe(true);
    expect((await l.get(unburned))!.used).toBe(true);
  });

  test("a row with no known expiry counts as expiring the longest lifetime after its last change", async () => {
    const l = await ledger({ leaseMs: 60_000, overlapBytes: 0 });
    const r = await l.take(key, 0, MB, 1000); // no expiry given
    if (r.state !== "granted") throw new Error(r.state);
    await l.applyLines("log", 1, 1, [{ token: r.token, status: 416, bytes: 100 }], 2000);
    expect(await l.prune(2000 + 5000, 5000)).toBe(0);
    expect(await l.prune(2000 + 5001, 5000)).toBe(1);
  });

  test("two guards on one database never both grant a lease on a link", async () => {
    const first = await ledger();
    const p = shared!;
    const other = await ledger(undefined, p); // another guard on the same database (across processes: db.test.ts)
    const keys = Array.from({ length: 8 }, (_, i) => key.replace("/d/a", `/d/${i}`));
    const results = await Promise.all(keys.flatMap((k) => [first.take(k, 0, MB), other.take(k, 0, MB)]));
    for (let i = 0; i < keys.length; i++) expect([results[2 * i]!.state, results[2 * i + 1]!.state].sort()).toEqual(["busy", "granted"]);
  });

  test("each machine's guard keeps its own place in its nginx log, even at the same path", async () => {
    const a = await ledger({ leaseMs: 60_000, overlapBytes: 0, machine: "web-a" });
    const b = await ledger({ leaseMs: 60_000, overlapBytes: 0, machine: "web-b" }, shared!);
    await a.applyLines("/var/log/guard.log", 7, 100, []);
    expect(await b.logPosition("/var/log/guard.log")).toBeNull();
    await b.applyLines("/var/log/guard.log", 9, 20, []);
    expect(await a.logPosition("/var/log/guard.log")).toEqual({ inode: 7, pos: 100 });
    expect(await b.logPosition("/var/log/guard.log")).toEqual({ inode: 9, pos: 20 });
  });
});

const oldDirs: string[] = [];
const oldDir = () => {
  const d = mkdtempSync(`${tmpdir()}/ledger-old-`);
  oldDirs.push(d);
  return d;
};
afterEach(() => oldDirs.splice(0).forEach((d) => rmSync(d, { recursive: true, force: true })));
const openOld = async (dir: string, o: Options = { leaseMs: 60_000, overlapBytes: 4 * MB }) => {
  const db = await openDb(dir, "linkguard");
  opened.push(db);
  return Ledger.open(db, o);
};

test("an older guard's store: its used and leased links stay refused", async () => {
  const dir = oldDir();
  const old = new Database(`${dir}/linkguard.sqlite`, { create: true });
  old.run("CREATE TABLE links (key TEXT PRIMARY KEY, used_at INTEGER, lease_token TEXT, leased_at INTEGER, updated_at INTEGER NOT NULL)");
  const used = key, leased = key.replace("/d/a", "/d/c"), free = key.replace("/d/a", "/d/e");
  old.run("INSERT INTO links VALUES (?, 5, NULL, NULL, 5), (?, NULL, 'tok', 7, 7), (?, NULL, NULL, NULL, 9)", [used, leased, free]);
  old.close();
  const l = await openOld(dir);
  expect(await l.used(used)).toBe(true);
  expect(await l.used(leased)).toBe(true);
  expect(await l.used(free)).toBe(false);
});

test("a store from before log positions were kept per machine: its position is this machine's", async () => {
  const dir = oldDir();
  const old = new Database(`${dir}/linkguard.sqlite`, { create: true });
  // the schema as the guard of the previous version left it (linkguard migrations 1-3)
  old.run("CREATE TABLE schema_versions (component TEXT PRIMARY KEY, version INTEGER NOT NULL)");
  old.run("INSERT INTO schema_versions VALUES ('linkguard', 3)");
  old.run("CREATE TABLE guard_links (key TEXT PRIMARY KEY, size INTEGER NOT NULL DEFAULT 0, delivered INTEGER NOT NULL DEFAULT 0, used_at INTEGER, burned_at INTEGER, lease_token TEXT UNIQUE, lease_start INTEGER, leased_at INTEGER, updated_at INTEGER NOT NULL, expires_at INTEGER)");
  old.run("CREATE TABLE guard_log_offsets (log TEXT PRIMARY KEY, inode INTEGER NOT NULL, pos INTEGER NOT NULL)");
  old.run("INSERT INTO guard_log_offsets VALUES ('/run/guard.log', 42, 1234)");
  old.run("INSERT INTO guard_links (key, size, delivered, used_at, updated_at) VALUES (?, 10, 10, 5, 5)", [key]);
  old.close();
  const here = await openOld(dir, { leaseMs: 60_000, overlapBytes: 0, machine: "here" });
  expect(await here.logPosition("/run/guard.log")).toEqual({ inode: 42, pos: 1234 });
  expect(await here.used(key)).toBe(true);
  const elsewhere = await openOld(dir, { leaseMs: 60_000, overlapBytes: 0, machine: "elsewhere" });
  expect(await elsewhere.logPosition("/run/guard.log")).toBeNull();
});
