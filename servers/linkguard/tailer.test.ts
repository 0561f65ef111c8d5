import { afterAll, beforeAll, expect, test } from "bun:test";
import { appendFileSync, mkdirSync, mkdtempSync, renameSync, rmSync, statSync, utimesSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { openDb, type Db } from "../shared/db.ts";
import { describeEachDialect } from "../../test/support/dialects.ts";
import { createLogger } from "../shared/log.ts";
import { parseLine } from "./accesslog.ts";
import { Ledger } from "./ledger.ts";
import { LogTailer } from "./tailer.ts";
import { until } from "../../test/support/wait.ts";

const dir = mkdtempSync(`${tmpdir()}/tailer-`);
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const log = createLogger("tailer-test", "error");
const key = (c: string) => `/d/${c.repeat(32)}/${"b".repeat(32)}.zip`;
const line = (k: string, status: number, bytes: number, token: string) => `GET ${k} ${status} ${bytes} ${token}\n`;

test("parseLine reads only GET lines with a lease token", () => {
  const t = "0123456789abcdef0123456789abcdef";
  expect(parseLine(line(key("a"), 206, 500, t))).toEqual({ path: key("a"), status: 206, bytes: 500, token: t });
  for (const other of [`HEAD ${key("a")} 200 0 -`, `GET ${key("a")} 403 146 -`, `GET ${key("a")} 200 5 `, "garbage", `GET ${key("a")} 200 5 ${t} extra`]) expect(parseLine(other)).toBeNull();
});

describeEachDialect("LogTailer", (place, dialect) => {
  let db: Db;
  beforeAll(async () => {
    const p = await place();
    db = await openDb(p.stateDir, "linkguard", p.databaseUrl);
  });
  afterAll(() => db.close());
  const logDir = () => `${dir}/${dialect}`;
  beforeAll(() => void mkdirSync(logDir()));

  test("lines are applied once, in order, from the saved position; a replaced file is read from its start", async () => {
    const ledger = await Ledger.open(db, { leaseMs: 60_000, overlapBytes: 0 });
    const path = `${logDir()}/guard.log`;
    const usedUp: string[] = [];
    const tail = () => new LogTailer({ path, nginxPidFile: `${logDir()}/no-nginx.pid`, maxBytes: 1 << 20 }, ledger, log, async (k) => void usedUp.push(...k));
    const grant = async (k: string, size: number) => {
      const r = await ledger.take(k, 0, size);
      if (r.state !== "granted") throw new Error(r.state);
      return r.token;
    };
    expect(await tail().poll()).toBe(0); // no file yet
    const ta = await grant(key("a"), 100);
    const tb = await grant(key("c"), 100);
    writeFileSync(path, line(key("a"), 200, 40, ta) + `HEAD ${key("a")} 200 0 -\n` + line(key("c"), 200, 100, tb).slice(0, 20));
    expect(await tail().poll()).toBe(2); // the half-written third line waits
    expect(await ledger.get(key("a"))).toMatchObject({ delivered: 40, used: false, leased: false });
    appendFileSync(path, line(key("c"), 200, 100, tb).slice(20));
    expect(await tail().poll()).toBe(1); // a new tailer (a restart) resumes after what was applied
    expect(usedUp).toEqual([key("c")]);
    expect(await tail().poll()).toBe(0);
  
    // a file replaced by hand (another inode, not a rotation): read from its start
    const td = await grant(key("d"), 10);
    renameSync(path, `${path}.old`);
    writeFileSync(path, line(key("d"), 200, 10, td));
    expect(await tail().poll()).toBe(1);
    expect(usedUp).toEqual([key("c"), key("d")]);
  });
  
  test("past the size cap the read log is moved to .1 and nginx asked to reopen; lines still written to the old file are read first", async () => {
    const ledger = await Ledger.open(db, { leaseMs: 60_000, overlapBytes: 0 });
    const path = `${logDir()}/rotating.log`;
    const pidFile = `${logDir()}/nginx.pid`;
    writeFileSync(pidFile, String(process.pid)); // this test stands in for nginx
    let reopened = 0;
    const onUsr1 = () => reopened++;
    process.on("SIGUSR1", onUsr1);
    try {
      const usedUp: string[] = [];
      const tailer = new LogTailer({ path, nginxPidFile: pidFile, maxBytes: 100 }, ledger, log, async (k) => void usedUp.push(...k));
      const grant = async (k: string) => {
        const r = await ledger.take(k, 0, 10);
        if (r.state !== "granted") throw new Error(r.state);
        return r.token;
      };
      const [t1, t2, t3] = [await grant(key("1")), await grant(key("2")), await grant(key("3"))];
      writeFileSync(path, line(key("1"), 200, 10, t1) + line(key("2"), 200, 5, t2));
      expect(await tailer.poll()).toBe(2);
      await until("nginx (this test) to be asked to reopen its logs", () => reopened === 1);
      expect(statSync(path).size).toBe(0);
      expect(statSync(path).mode & 0o777).toBe(0o600);
      // nginx had not reopened yet: one more line lands in the moved file, then the new one gets lines
      appendFileSync(`${path}.1`, line(key("2"), 206, 5, t2));
      appendFileSync(path, line(key("3"), 200, 10, t3));
      expect(await tailer.poll()).toBe(1); // the old file's last line first; the new one waits while the old is fresh
      utimesSync(`${path}.1`, new Date(Date.now() - 10_000), new Date(Date.now() - 10_000));
      expect(await tailer.poll()).toBe(1);
      expect(usedUp).toEqual([key("1"), key("3")]);
    } finally {
      process.off("SIGUSR1", onUsr1);
    }
  });
});
