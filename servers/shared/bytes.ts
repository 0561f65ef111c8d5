/**
 * @module bytes
 * The one place sizes become words. `formatBytes` gives decimal units, as
 * browsers' download lists do ("1.5 MB"), for sizes and speeds on the page,
 * in the terminal and in the bench; `formatLimit` gives binary units for
 * limits that are powers of two ("1 GiB"), in error messages.
 */

const SI = ["B", "KB", "MB", "GB", "TB"];
const IEC = ["bytes", "KiB", "MiB", "GiB", "TiB"];

/** 1536 → "1.54 KB": three significant digits at most. */
export function formatBytes(n: number): string {
  let v = Math.max(0, n);
  let u = 0;
  while (v >= 1000 && u < SI.length - 1) {
    v /= 1000;
    u++;
  }
  const digits = u === 0 || v >= 100 ? 0 : v >= 10 ? 1 : 2;
  return `${v.toFixed(digits)} ${SI[u]}`;
}

/** 1073741824 → "1 GiB", 1572864 → "1.5 MiB", 100 → "100 bytes". */
export function formatLimit(n: number): string {
  let i = 0;
  let v = n;
  while (v >= 1024 && i < IEC.length - 1) {
    v /= 1024;
    i++;
  }
  return i === 0 ? `${n} bytes` : `${Number.isInteger(v) ? v : v.toFixed(1)} ${IEC[i]}`;
}
