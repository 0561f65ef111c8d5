/**
 * Deterministic, real JPEG and PNG images for tests and the benchmark:
 * photo-like content (smooth gradients plus seeded noise) so that they
 * compress like a user's photos do (barely).
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
