import { afterEach, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { LeaseStore } from "./leases.ts";
import { applyDatagram } from "./listener.ts";
import { guardHandler, linkKey } from "./http.ts";

const key = `/d/${"a".repeat(32)}/${"b".repeat(32)}.zip`;
const dirs: string[] = [];
const tempDb = () => {
  const d = mkdtempSync(`${tmpdir()}/linkguard-`);
  dirs.push(d);
  return `${d}/state/guard.sqlite`;
};
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

describe("LeaseStore", () => {
  test("free → leased (others busy) → used (everyone refused)", () => {
    const s = new LeaseStore(":memory:", 60_000);
    const a = s.take(key, 1000);
    expect(a.state).toBe("granted");
    expect(s.take(key, 2000)).toEqual({ state: "busy" });
    s.markUsed(key, 3000);
    expect(s.take(key, 4000)).toEqual({ state: "used" });
    expect(s.state(key)).toBe("used");
  });

  test("a released lease can be taken again; a release never undoes 'used'", () => {
    const s = new LeaseStore(":memory:", 60_000);
    const a = s.take(key, 1000);
    if (a.state !== "granted") throw new Error("not granted");
    s.release(key, a.token, 1500);
    const b = s.take(key, 2000);
    expect(b.state).toBe("granted");
    s.markUsed(key, 2500);
    s.release(key, null, 3000);
    expect(s.take(key, 3500)).toEqual({ state: "used" });
  });

  test("a stale token frees nothing: the later holder keeps its lease", () => {
    const s = new LeaseStore(":memory:", 1000);
    const a = s.take(key, 0);
    const b = s.take(key, 5000); // a's lease lapsed
    if (a.state !== "granted" || b.state !== "granted") throw new Error("not granted");
    s.release(key, a.token, 5100);
    expect(s.take(key, 5200)).toEqual({ state: "busy" });
    s.release(key, b.token, 5300);
    expect(s.take(key, 5400).state).toBe("granted");
  });

  test("a lease nobody reported on lapses after the lease time", () => {
    const s = new LeaseStore(":memory:", 1000);
    expect(s.take(key, 0).state).toBe("granted");
    expect(s.take(key, 999).state).toBe("busy");
    expect(s.take(key, 1000).state).toBe("granted");
  });

  test("state survives a restart (sqlite file)", () => {
    const path = tempDb();
    const s = new LeaseStore(path, 60_000);
    s.take(key);
    s.markUsed(key);
    s.close();
    const again = new LeaseStore(path, 60_000);
    expect(again.take(key)).toEqual({ state: "used" });
    again.close();
  });

  test("prune forgets only links untouched since the cut-off", () => {
    const s = new LeaseStore(":memory:", 1000);
    s.markUsed(key, 100);
    const other = key.replace("/d/a", "/d/c");
    s.markUsed(other, 10_000);
    expect(s.prune(5000)).toBe(1);
    expect(s.state(key)).toBe("free");
    expect(s.state(other)).toBe("used");
  });
});

describe("guard HTTP and syslog together", () => {
  const ask = (h: (r: Request) => Response, method: string, uri = key) =>
    h(new Request("http://guard/lease", { headers: { "x-original-uri": uri, "x-original-method": method } }));

  test("HEAD takes nothing; GET leases; the log line of a whole GET uses the link up", () => {
    const s = new LeaseStore(":memory:", 60_000);
    const h = guardHandler(s);
    expect(ask(h, "HEAD").status).toBe(204);
    expect(s.state(key)).toBe("free");
    const first = ask(h, "GET");
    expect(first.status).toBe(204);
    const token = first.headers.get("x-lease")!;
    expect(token).toMatch(/^[0-9a-f]{24}$/);
    const busy = ask(h, "GET");
    expect([busy.status, busy.headers.get("x-guard")]).toEqual([401, "busy"]);
    // someone else's refused request is logged without a token: it must not free the lease
    expect(applyDatagram(s, `<190>Nov 28 12:00:00 linkpack: GET ${key} 403 "OK" 146 -`)).toBe("ignore");
    expect(s.state(key)).toBe("leased");
    expect(applyDatagram(s, `<190>Nov 28 12:00:00 linkpack: GET ${key} 200 "OK" 5000 ${token}`)).toBe("used");
    const used = ask(h, "GET");
    expect([used.status, used.headers.get("x-guard")]).toEqual([401, "used"]);
    expect(ask(h, "HEAD").status).toBe(204);
  });

  test("a cut-off GET frees the lease for the next GET", () => {
    const s = new LeaseStore(":memory:", 60_000);
    const h = guardHandler(s);
    const token = ask(h, "GET").headers.get("x-lease")!;
    applyDatagram(s, `<190>Nov 28 12:00:00 linkpack: GET ${key} 200 "" 1024 ${token}`);
    expect(ask(h, "GET").status).toBe(204);
  });

  test("only link paths are keys; anything else is refused", () => {
    const h = guardHandler(new LeaseStore(":memory:", 1000));
    expect(linkKey(`${key}?md5=x&expires=1`)).toBe(key);
    for (const bad of [null, "", "/d/", `/d/${"a".repeat(32)}/../x.zip`, `/d/${"A".repeat(32)}/${"b".repeat(32)}.zip`, "/etc/passwd"]) expect(linkKey(bad)).toBeNull();
    expect(ask(h, "GET", "/x").status).toBe(403);
    expect(h(new Request("http://guard/healthz")).status).toBe(200);
    expect(h(new Request("http://guard/other")).status).toBe(404);
  });
});
