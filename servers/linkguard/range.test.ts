import { describe, expect, test } from "bun:test";
import { archiveInfo, startOffset } from "./range.ts";

// nginx 1.22 on this file gives ETag "6b0e9069-f4240" and Last-Modified Tue, 01 Dec 2026 09:16:25 GMT.
const info = archiveInfo({ size: 1_000_000, mtimeMs: 1796116585_123 });
const lastModified = new Date(info.mtime * 1000).toUTCString();

describe("startOffset", () => {
  test("validators as nginx derives them", () => {
    expect(info).toEqual({ size: 1_000_000, mtime: 1796116585, etag: '"6b0e9069-f4240"' });
    expect(lastModified).toBe("Tue, 01 Dec 2026 09:16:25 GMT");
  });

  test("no Range: the whole archive from 0; one open range: from N", () => {
    expect(startOffset(null, null, info)).toEqual({ start: 0 });
    expect(startOffset("", null, info)).toEqual({ start: 0 });
    expect(startOffset("bytes=100-", null, info)).toEqual({ start: 100 });
    expect(startOffset("bytes=0-", null, info)).toEqual({ start: 0 });
    expect(startOffset("bytes=999999-", null, info)).toEqual({ start: 999_999 });
  });

  test("If-Range that nginx honours keeps the range; one it does not means a 200 from byte 0", () => {
    expect(startOffset("bytes=100-", info.etag, info)).toEqual({ start: 100 });
    expect(startOffset("bytes=100-", lastModified, info)).toEqual({ start: 100 });
    for (const stale of ['"zzz"', `W/${info.etag}`, '"6b0e9069-f4241"', "Tue, 01 Dec 2026 09:16:26 GMT", "garbage"])
      expect(startOffset("bytes=100-", stale, info)).toEqual({ start: 0 });
  });

  test("anything but one open range is refused (nginx would answer it from 0, or in pieces)", () => {
    for (const r of ["bytes=0-9", "bytes=100-200", "bytes=-100", "bytes=0-1,5-9", "bytes=1-,5-", "bytes=x", "items=0-", "bytes= 1-", "bytes=1e3-", "bytes=99999999999999999-"]) {
      const got = startOffset(r, null, info);
      expect("refused" in got, r).toBe(true);
    }
    expect(startOffset("bytes=1000000-", null, info)).toMatchObject({ refused: expect.stringContaining("nothing is left") });
  });
});
