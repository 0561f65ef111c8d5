import { describe, expect, test } from "bun:test";
import { DownloadFailed } from "../shared/errors.ts";
import { blockedReason, parseIPv6 } from "./ipaddr.ts";
import { checkedAddresses, parseHttpUrl, type Resolver } from "./ssrf.ts";

describe("blockedReason", () => {
  test.each([
    ["127.0.0.1", "loopback"],
    ["127.255.255.254", "loopback"],
    ["10.1.2.3", "private"],
    ["172.16.0.1", "private"],
    ["172.31.255.255", "private"],
    ["192.168.1.1", "private"],
    ["100.64.0.1", "carrier-grade NAT"],
    ["100.127.255.255", "carrier-grade NAT"],
    ["169.254.169.254", "link-local"],
    ["0.0.0.0", "this network"],
    ["0.1.2.3", "this network"],
    ["224.0.0.1", "multicast"],
    ["239.255.255.250", "multicast"],
    ["255.255.255.255", "broadcast"],
    ["240.0.0.1", "reserved"],
    ["192.0.2.10", "documentation"],
    ["198.18.0.1", "benchmarking"],
    ["::1", "loopback"],
    ["::", "unspecified"],
    ["fe80::1", "link-local"],
    ["fe80::1%eth0", "link-local"],
    ["febf:ffff::1", "link-local"],
    ["fc00::1", "unique-local"],
    ["fd12:3456:789a::1", "unique-local"],
    ["ff02::1", "multicast"],
    ["fec0::1", "site-local"],
    ["::ffff:127.0.0.1", "loopback address (IPv4-mapped)"],
    ["::ffff:7f00:1", "loopback address (IPv4-mapped)"],
    ["0:0:0:0:0:ffff:a00:1", "private address (IPv4-mapped)"],
    ["::ffff:169.254.169.254", "link-local address (IPv4-mapped)"],
    ["::127.0.0.1", "loopback address (IPv4-compatible)"],
    ["::7f00:1", "loopback address (IPv4-compatible)"],
    ["64:ff9b::127.0.0.1", "loopback address (NAT64)"],
    ["64:ff9b::a9fe:a9fe", "link-local address (NAT64)"],
    ["64:ff9b:1::1", "NAT64"],
    ["2002:7f00:1::1", "loopback address (6to4)"],
    ["2002:c0a8:101::1", "private address (6to4)"],
    ["2001:0:4136:e378:8000:63bf:3fff:fdd2", "Teredo"],
    ["2001:db8::1", "documentation"],
    ["[::1]", "loopback"],
    ["not-an-ip", "not an IP address"],
    ["1.2.3", "not an IP address"],
  ])("%s is refused (%s)", (addr, why) => {
    expect(blockedReason(addr)).toContain(why);
  });

  test.each(["8.8.8.8", "1.1.1.1", "93.184.216.34", "172.15.255.255", "172.32.0.1", "100.63.255.255", "100.128.0.1", "192.169.0.1", "223.255.255.255", "2606:4700:4700::1111", "2a00:1450:4001:80b::200e", "::ffff:8.8.8.8", "64:ff9b::8.8.8.8", "2002:808:808::1"])(
    "%s is public",
    (addr) => {
      expect(blockedReason(addr)).toBeNull();
    },
  );

  test("IPv6 parsing", () => {
    expect(parseIPv6("::1")).toEqual([...Array(15).fill(0), 1]);
    expect(parseIPv6("1:2:3:4:5:6:7:8")).toEqual([0, 1, 0, 2, 0, 3, 0, 4, 0, 5, 0, 6, 0, 7, 0, 8]);
    expect(parseIPv6("::ffff:1.2.3.4")!.slice(10)).toEqual([255, 255, 1, 2, 3, 4]);
    for (const bad of ["1:2:3:4:5:6:7:8:9", "1::2::3", "12345::", "::g", "1.2.3.4", ":1", "1:2:3:4:5:6:7", "::1.2.3.256"]) expect(parseIPv6(bad)).toBeNull();
  });
});

describe("numeric host forms in URLs (WHATWG parsing normalises them, then they are judged)", () => {
  const never: Resolver = async () => {
    throw new Error("a literal must not be resolved");
  };
  test.each([
    "http://127.1/",
    "http://0x7f000001/",
    "http://2130706433/",
    "http://0177.0.0.1/",
    "http://0x7f.1/",
    "http://127.0.0.1.:8080/",
    "http://%31%32%37.0.0.1/",
    "http://０x7f.1/",
    "http://[::1]/",
    "http://[::ffff:127.0.0.1]/",
    "http://[0:0:0:0:0:ffff:7f00:1]/",
    "http://[::127.0.0.1]/",
    "http://[64:ff9b::127.0.0.1]/",
    "http://0/",
    "http://169.254.169.254/latest/meta-data/",
    "https://10.0.0.1:8443/",
    "http://user:pass@192.168.0.1/",
  ])("%s is refused", async (url) => {
    const err = await checkedAddresses(parseHttpUrl(url), never, []).catch((e) => e);
    expect(err).toBeInstanceOf(DownloadFailed);
    expect(err.message).toMatch(/^refused: /);
  });
});

describe("checkedAddresses", () => {
  const map =
    (table: Record<string, string[]>): Resolver =>
    async (host) => {
      const list = table[host];
      if (!list) throw Object.assign(new Error(`getaddrinfo ENOTFOUND ${host}`), { code: "ENOTFOUND" });
      return list.map((address) => ({ address, family: address.includes(":") ? 6 : 4 }));
    };
  const dns = map({
    "public.test": ["93.184.216.34"],
    "rebind.test": ["127.0.0.1"],
    "mixed.test": ["93.184.216.34", "10.0.0.5"],
    "v6.test": ["2606:4700::1", "93.184.216.34"],
    "mapped.test": ["::ffff:192.168.0.1"],
    "empty.test": [],
  });

  test("a public name resolves to its addresses, IPv4 first", async () => {
    expect(await checkedAddresses(new URL("https://public.test/x"), dns, [])).toEqual([{ address: "93.184.216.34", family: 4 }]);
    expect((await checkedAddresses(new URL("https://v6.test/x"), dns, [])).map((a) => a.family)).toEqual([4, 6]);
  });

  test("a name resolving to a private address is refused, also when only one of its addresses is", async () => {
    for (const host of ["rebind.test", "mixed.test", "mapped.test"]) {
      const err = await checkedAddresses(new URL(`http://${host}/`), dns, []).catch((e) => e);
      expect(err).toBeInstanceOf(DownloadFailed);
      expect(err.message).toContain(`refused: ${host} resolves to`);
    }
  });

  test("ALLOW_PRIVATE_URLS exempts exactly host:port (effective port counts)", async () => {
    expect(await checkedAddresses(new URL("http://rebind.test:8080/"), dns, ["rebind.test:8080"])).toHaveLength(1);
    expect(await checkedAddresses(new URL("http://rebind.test/"), dns, ["rebind.test:80"])).toHaveLength(1);
    expect(await checkedAddresses(new URL("https://rebind.test/"), dns, ["rebind.test:443"])).toHaveLength(1);
    for (const [url, allow] of [
      ["http://rebind.test:8081/", "rebind.test:8080"],
      ["https://rebind.test/", "rebind.test:80"],
      ["http://127.0.0.1:8080/", "localhost:8080"],
      ["http://localhost:8080/", "127.0.0.1:8080"],
    ] as const) {
      const err = await checkedAddresses(new URL(url), map({ localhost: ["127.0.0.1"], "rebind.test": ["127.0.0.1"] }), [allow]).catch((e) => e);
      expect(err).toBeInstanceOf(DownloadFailed);
    }
    expect(await checkedAddresses(new URL("http://127.0.0.1:8080/"), dns, ["127.0.0.1:8080"])).toEqual([{ address: "127.0.0.1", family: 4 }]);
    expect(await checkedAddresses(new URL("http://[::1]:8080/"), dns, ["[::1]:8080"])).toEqual([{ address: "::1", family: 6 }]);
  });

  test("DNS failure is a readable DownloadFailed", async () => {
    for (const host of ["example.invalid", "empty.test"]) {
      const err = await checkedAddresses(new URL(`http://${host}/`), dns, []).catch((e) => e);
      expect(err).toBeInstanceOf(DownloadFailed);
      expect(err.message).toBe(`could not resolve host ${host}`);
    }
  });

  test("only http and https", () => {
    for (const url of ["ftp://example.com/x", "file:///etc/passwd", "gopher://x/", "javascript:alert(1)", "data:text/plain,hi"])
      expect(() => parseHttpUrl(url)).toThrow(/only http and https/);
    expect(() => parseHttpUrl("not a url")).toThrow("not a valid URL");
  });
});
