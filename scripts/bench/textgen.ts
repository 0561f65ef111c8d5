/**
 * @module textgen
 * Seeded, realistic-looking text files for the `text` corpus: CSV orders,
 * JSON-lines records and web-server logs. Words come from a small vocabulary
 * and numbers from a seeded PRNG, so the files deflate to roughly a quarter
 * of their size, as real exports and logs do.
 */
import { prng } from "../../test/images.ts";

export type TextKind = "csv" | "json" | "log";

const WORDS = ("alpha amber anchor apple arrow atlas autumn badge bamboo banner basil beacon berry birch bloom breeze bridge bronze cabin "
  + "canyon carbon cedar cherry citrus cloud clover cobalt comet copper coral cotton crane crystal delta desert dune eagle echo ember "
  + "falcon fern field flint forest frost garnet glacier granite harbor hazel horizon indigo iris island ivory jade jasmine juniper "
  + "lagoon lantern lemon lilac linen lotus maple marble meadow mint mist nectar oak ocean olive onyx orbit orchid pearl pebble pine "
  + "plum prairie quartz raven reef ridge river ruby saffron sage sand shadow silver slate spruce stone storm summit thistle thunder "
  + "tide timber topaz tulip valley velvet violet walnut willow winter zephyr").split(" ");
const CITIES = ["Berlin", "Lisbon", "Osaka", "Toronto", "Nairobi", "Lima", "Oslo", "Denver", "Pune", "Perth", "Austin", "Lyon"];
const STATUS = ["paid", "shipped", "pending", "refunded", "cancelled"];
const LEVELS = ["INFO", "INFO", "INFO", "INFO", "DEBUG", "WARN", "ERROR"];
const METHODS = ["GET", "GET", "GET", "POST", "PUT", "DELETE"];
const CODES = [200, 200, 200, 200, 201, 204, 301, 304, 400, 404, 500];

type Rand = () => number;
const pick = <T>(r: Rand, xs: readonly T[]): T => xs[Math.floor(r() * xs.length)]!;
const int = (r: Rand, lo: number, hi: number) => lo + Math.floor(r() * (hi - lo + 1));
const words = (r: Rand, n: number) => Array.from({ length: n }, () => pick(r, WORDS)).join(" ");
const date = (t: number) => new Date(1_700_000_000_000 + t).toISOString();

function csvLine(r: Rand, i: number): string {
  const qty = int(r, 1, 20);
  const price = int(r, 99, 99_999) / 100;
  return `${100000 + i},${date(i * 37_000).slice(0, 10)},${pick(r, WORDS)} ${pick(r, WORDS)},${pick(r, CITIES)},${pick(r, WORDS)}-${int(r, 1, 40)},${qty},${price.toFixed(2)},${(qty * price).toFixed(2)},${pick(r, STATUS)}\n`;
}

function jsonLine(r: Rand, i: number): string {
  const rec = {
    id: 500000 + i,
    user: `${pick(r, WORDS)}.${pick(r, WORDS)}`,
    city: pick(r, CITIES),
    created: date(i * 61_000),
    tags: Array.from({ length: int(r, 1, 4) }, () => pick(r, WORDS)),
    score: int(r, 0, 10_000) / 100,
    geo: [int(r, -900_000, 900_000) / 10_000, int(r, -1_800_000, 1_800_000) / 10_000],
    active: r() < 0.8,
    note: words(r, int(r, 3, 9)),
  };
  return JSON.stringify(rec) + "\n";
}

function logLine(r: Rand, i: number): string {
  const path = `/api/${pick(r, WORDS)}/${int(r, 1, 5000)}`;
  return `${date(i * 450 + int(r, 0, 400))} ${pick(r, LEVELS).padEnd(5)} http ${pick(r, METHODS)} ${path} ${pick(r, CODES)} ${int(r, 1, 900)}ms user=${pick(r, WORDS)} ip=10.${int(r, 0, 3)}.${int(r, 0, 255)}.${int(r, 1, 254)} msg="${words(r, int(r, 2, 6))}"\n`;
}

const HEADERS: Record<TextKind, string> = {
  csv: "order_id,date,customer,city,product,quantity,unit_price,total,status\n",
  json: "",
  log: "",
};
const LINES: Record<TextKind, (r: Rand, i: number) => string> = { csv: csvLine, json: jsonLine, log: logLine };

/** A text file of `kind`, whole lines, at most `bytes` long (and within one line of it); the same for the same seed. */
export function textFile(kind: TextKind, bytes: number, seed: number): Buffer {
  const r = prng(seed);
  const parts: string[] = [HEADERS[kind]];
  let size = parts[0]!.length;
  for (let i = 0; ; i++) {
    const line = LINES[kind](r, i);
    if (size + line.length > bytes) break;
    parts.push(line);
    size += line.length;
  }
  return Buffer.from(parts.join(""), "utf8");
}
