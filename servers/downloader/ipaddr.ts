/**
 * @module ipaddr
 * Parses IP address literals (as resolvers return them, or as a WHATWG URL
 * normalises a host) into bytes, and says which special-purpose range an
 * address is in. The SSRF guard refuses every address this names.
 */

/** The four bytes of a dotted-quad IPv4 address, or null. */
export function parseIPv4(s: string): number[] | null {
  const m = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(s);
  if (!m) return null;
  const b = m.slice(1).map(Number);
  return b.every((x) => x <= 255) ? b : null;
}

/** The sixteen bytes of an IPv6 address (`::`, an IPv4 tail and a `%zone` allowed; brackets too), or null. */
export function parseIPv6(input: string): number[] | null {
  let s = input.startsWith("[") && input.endsWith("]") ? input.slice(1, -1) : input;
  s = s.replace(/%.*$/, "");
  if (!/^[0-9a-fA-F:.]+$/.test(s) || !s.includes(":")) return null;
  const lastColon = s.lastIndexOf(":");
  const dotted = s.slice(lastColon + 1);
  if (dotted.includes(".")) {
    // "::ffff:1.2.3.4" -> "::ffff:102:304"
    const v4 = parseIPv4(dotted);
    if (!v4) return null;
    s = `${s.slice(0, lastColon + 1)}${((v4[0]! << 8) | v4[1]!).toString(16)}:${((v4[2]! << 8) | v4[3]!).toString(16)}`;
  }
  const halves = s.split("::");
  if (halves.length > 2) return null;
  const words = (part: string) => (part === "" ? [] : part.split(":"));
  const head = words(halves[0]!);
  const rest = halves.length === 2 ? words(halves[1]!) : [];
  if ([...head, ...rest].some((w) => !/^[0-9a-fA-F]{1,4}$/.test(w))) return null;
  const fill = 8 - head.length - rest.length;
  if (halves.length === 2 ? fill < 1 : fill !== 0) return null;
  const all = [...head, ...Array<string>(fill).fill("0"), ...rest].map((w) => parseInt(w, 16));
  return all.flatMap((w) => [w >> 8, w & 255]);
}

/** Whether the first `bits` bits of `b` equal those of `net`. */
const prefix = (b: number[], bytes: number[], bits: number) => {
  for (let i = 0; i * 8 < bits; i++) {
    const take = Math.min(8, bits - i * 8);
    const mask = (0xff << (8 - take)) & 0xff;
    if ((b[i]! & mask) !== (bytes[i]! & mask)) return false;
  }
  return true;
};
const V4_RANGES: [net: number[], bits: number, what: string][] = [
  [[0, 0, 0, 0], 8, "a \"this network\" address"],
  [[10, 0, 0, 0], 8, "a private address"],
  [[100, 64, 0, 0], 10, "a shared (carrier-grade NAT) address"],
  [[127, 0, 0, 0], 8, "a loopback address"],
  [[169, 254, 0, 0], 16, "a link-local address"],
  [[172, 16, 0, 0], 12, "a private address"],
  [[192, 0, 0, 0], 24, "a reserved address"],
  [[192, 0, 2, 0], 24, "a documentation address"],
  [[192, 88, 99, 0], 24, "a reserved (6to4 relay) address"],
  [[192, 168, 0, 0], 16, "a private address"],
  [[198, 18, 0, 0], 15, "a benchmarking address"],
  [[198, 51, 100, 0], 24, "a documentation address"],
  [[203, 0, 113, 0], 24, "a documentation address"],
  [[224, 0, 0, 0], 4, "a multicast address"],
  [[240, 0, 0, 0], 4, "a reserved address"],
];

function v4Reason(b: number[]): string | null {
  if (b.every((x) => x === 255)) return "the broadcast address";
  for (const [net, bits, what] of V4_RANGES) if (prefix(b, net, bits)) return what;
  return null;
}

const zero = (b: number[], from: number, to: number) => b.slice(from, to).every((x) => x === 0);

function v6Reason(b: number[]): string | null {
  if (zero(b, 0, 16)) return "the unspecified address";
  if (zero(b, 0, 15) && b[15] === 1) return "a loopback address";
  const embedded = (v4: number[], how: string) => {
    const r = v4Reason(v4);
    return r ? `${r} (${how})` : null;
  };
  if (zero(b, 0, 10) && b[10] === 255 && b[11] === 255) return embedded(b.slice(12), "IPv4-mapped");
  if (zero(b, 0, 12)) return embedded(b.slice(12), "IPv4-compatible");
  if (prefix(b, [0, 0x64, 0xff, 0x9b], 32) && zero(b, 4, 12)) return embedded(b.slice(12), "NAT64");
  if (prefix(b, [0, 0x64, 0xff, 0x9b, 0, 1], 48)) return "a local-use NAT64 address";
  if (prefix(b, [0x20, 0x02], 16)) return embedded(b.slice(2, 6), "6to4");
  if (prefix(b, [0x20, 0x01, 0, 0], 32)) return "a Teredo tunnel address";
  if (prefix(b, [0x20, 0x01, 0x0d, 0xb8], 32)) return "a documentation address";
  if (prefix(b, [1, 0, 0, 0, 0, 0, 0, 0], 64)) return "a discard-only address";
  if (prefix(b, [0xfc], 7)) return "a unique-local (private) address";
  if (prefix(b, [0xfe, 0x80], 10)) return "a link-local address";
  if (prefix(b, [0xfe, 0xc0], 10)) return "a site-local address";
  if (b[0] === 0xff) return "a multicast address";
  return null;
}

/**
 * Why `address` must not be fetched ("a loopback address", "a private
 * address (IPv4-mapped)"...), or null for an ordinary public address. A string
 * that is not an IP address is refused too.
 */
export function blockedReason(address: string): string | null {
  const v4 = parseIPv4(address);
  if (v4) return v4Reason(v4);
  const v6 = parseIPv6(address);
  if (v6) return v6Reason(v6);
  return "not an IP address";
}
