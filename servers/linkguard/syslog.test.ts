import { describe, expect, test } from "bun:test";
import { parseAccessLine, verdict } from "./syslog.ts";

const path = `/d/${"a".repeat(32)}/${"b".repeat(32)}.zip`;
const line = (msg: string) => `<190>Nov 28 12:40:29 linkpack: ${msg}`;

describe("parseAccessLine", () => {
  test("reads nginx's syslog datagram of the guard format", () => {
    expect(parseAccessLine(line(`GET ${path} 200 "OK" 41943040 3f2a9c`))).toEqual({ method: "GET", path, status: 200, completed: true, bytes: 41943040, lease: "3f2a9c" });
    expect(parseAccessLine(line(`GET ${path} 200 "" 4017326 3f2a9c\n`))).toMatchObject({ completed: false, bytes: 4017326 });
  });

  test("an unset token logs as '-', an empty one as nothing: both are no lease", () => {
    expect(parseAccessLine(line(`GET ${path} 403 "OK" 146 -`))!.lease).toBeNull();
    expect(parseAccessLine(line(`HEAD ${path} 200 "OK" 0 `))!.lease).toBeNull();
  });

  test("the older format without the token field", () => {
    expect(parseAccessLine(line(`GET ${path} 200 "OK" 5000`))!.lease).toBeUndefined();
  });

  test("other text is not a guard line", () => {
    expect(parseAccessLine("<190>Nov 28 12:40:29 other: hello")).toBeNull();
    expect(parseAccessLine(line("garbage"))).toBeNull();
    expect(parseAccessLine("")).toBeNull();
  });
});

describe("verdict", () => {
  const p = (msg: string) => verdict(parseAccessLine(line(msg))!);
  test("a leased GET that went out whole uses the link up", () => expect(p(`GET ${path} 200 "OK" 10 t1`)).toBe("used"));
  test("a leased GET cut off, or not found, frees its lease", () => {
    expect(p(`GET ${path} 200 "" 10 t1`)).toBe("release");
    expect(p(`GET ${path} 404 "OK" 10 t1`)).toBe("release");
  });
  test("lines without a lease never change anything (403, 410, HEAD)", () => {
    expect(p(`GET ${path} 403 "OK" 146 -`)).toBe("ignore");
    expect(p(`GET ${path} 410 "OK" 136 -`)).toBe("ignore");
    expect(p(`HEAD ${path} 200 "OK" 0 `)).toBe("ignore");
    expect(p(`HEAD ${path} 200 "OK" 0 t1`)).toBe("ignore");
  });
  test("old format: whole GET 200 used, cut-off GET 200 released, other statuses ignored", () => {
    expect(p(`GET ${path} 200 "OK" 10`)).toBe("used");
    expect(p(`GET ${path} 200 "" 10`)).toBe("release");
    expect(p(`GET ${path} 403 "OK" 10`)).toBe("ignore");
  });
});
