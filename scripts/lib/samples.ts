/**
 * @module samples
 * Deterministic, realistic-looking files for the tests and the benchmark,
 * the same for the same seed. Text: CSV orders, JSON-lines records and
 * web-server logs, words from a small vocabulary and numbers from a seeded
 * PRNG, so they deflate to roughly a quarter of their size, as real exports
 * and logs do. Photos: real JPEGs and PNGs of smooth gradients plus seeded
 * noise, so they compress like a user's photos do (barely).
 */
import jpeg from "jpeg-js";
import { deflateSync } from "node:zlib";

/** A small seeded PRNG (mulberry32). */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

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

function pixels(w: number, h: number, seed: number, channels: 3 | 4): Uint8Array {
  const r = prng(seed);
  const out = new Uint8Array(w * h * channels);
  const fx = 1 + r() * 6, fy = 1 + r() * 6, noise = 40 + r() * 80;
  for (let y = 0; y < h; y++)
    for (let x = 0; x < w; x++) {
      const i = (y * w + x) * channels;
      const base = 128 + 100 * Math.sin((x / w) * fx * Math.PI + seed) * Math.cos((y / h) * fy * Math.PI);
      out[i] = Math.max(0, Math.min(255, base + (r() - 0.5) * noise));
      out[i + 1] = Math.max(0, Math.min(255, 255 - base + (r() - 0.5) * noise));
      out[i + 2] = Math.max(0, Math.min(255, (x * 255) / w + (r() - 0.5) * noise));
      if (channels === 4) out[i + 3] = 255;
    }
  return out;
}

/** A real baseline JPEG of about w*h*0.4..1 bytes at quality 90. */
export function makeJpeg(w: number, h: number, seed: number): Uint8Array {
  const data = pixels(w, h, seed, 4);
  return jpeg.encode({ data: Buffer.from(data), width: w, height: h }, 90).data;
}

const crcTable = (() => {
  const t = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    t[n] = c >>> 0;
  }
  return t;
})();
function crc(buf: Uint8Array): number {
  let c = 0xffffffff;
  for (const b of buf) c = crcTable[(c ^ b) & 0xff]! ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}
function chunk(type: string, data: Uint8Array): Uint8Array {
  const out = Buffer.alloc(12 + data.length);
  out.writeUInt32BE(data.length, 0);
  out.write(type, 4, "ascii");
  out.set(data, 8);
  out.writeUInt32BE(crc(out.subarray(4, 8 + data.length)), 8 + data.length);
  return out;
}

/** A real RGB PNG. */
export function makePng(w: number, h: number, seed: number): Uint8Array {
  const px = pixels(w, h, seed, 3);
  const raw = Buffer.alloc((w * 3 + 1) * h);
  for (let y = 0; y < h; y++) raw.set(px.subarray(y * w * 3, (y + 1) * w * 3), y * (w * 3 + 1) + 1);
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(w, 0);
  ihdr.writeUInt32BE(h, 4);
  ihdr[8] = 8;
  ihdr[9] = 2;
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk("IHDR", ihdr),
    chunk("IDAT", deflateSync(raw, { level: 6 })),
    chunk("IEND", new Uint8Array(0)),
  ]);
}

export interface Photo {
  name: string;
  type: string;
  bytes: Uint8Array;
}

/** 8 JPEGs and 2 PNGs, ~40 KB to ~2 MB, ~6-10 MB in all, the same every time. */
export function photoSet(): Photo[] {
  const sizes: [number, number][] = [[240, 180], [320, 240], [480, 360], [640, 480], [800, 600], [1024, 768], [1200, 900], [1500, 1100]];
  const out: Photo[] = sizes.map(([w, h], i) => ({ name: `photo-${i + 1}.jpg`, type: "image/jpeg", bytes: makeJpeg(w, h, i + 1) }));
  out.push({ name: "chart.png", type: "image/png", bytes: makePng(400, 300, 101) });
  out.push({ name: "scan.png", type: "image/png", bytes: makePng(700, 500, 102) });
  return out;
}
