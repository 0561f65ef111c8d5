import { describe, expect, test } from "bun:test";
import { EntryNames, isSafeEntryName, safeEntryName } from "./names.ts";

describe("safeEntryName", () => {
  test("keeps ordinary names", () => {
    expect(safeEntryName("cat.jpg", 0)).toBe("cat.jpg");
    expect(safeEntryName("Übersicht 2024 (final).pdf", 0)).toBe("Übersicht 2024 (final).pdf");
    expect(safeEntryName(".bashrc", 0)).toBe("bashrc");
  });

  test("removes separators, traversal and control characters", () => {
    for (const [raw, want] of [
      ["../../etc/passwd", "_._etc_passwd"],
      ["a\\b.txt", "a_b.txt"],
      ["evil\u0000.txt", "evil_.txt"],
      ["line\nbreak.txt", "line_break.txt"],
      ["dots...txt", "dots.txt"],
      ["..", "file-4"],
      ["", "file-4"],
      [null, "file-4"],
      ["///", "file-4"],
    ] as const) {
      const got = safeEntryName(raw, 3);
      expect(got).toBe(want);
      expect(isSafeEntryName(got)).toBe(true);
    }
  });

  test("cuts long names to 200 UTF-8 bytes, keeping the extension and whole characters", () => {
    const got = safeEntryName(`${"é".repeat(300)}.jpg`, 0);
    expect(Buffer.byteLength(got)).toBeLessThanOrEqual(200);
    expect(got.endsWith("é.jpg")).toBe(true);
    expect(isSafeEntryName(got)).toBe(true);
  });
});

describe("EntryNames", () => {
  test("de-duplicates before the extension, also across case", () => {
    const n = new EntryNames();
    expect(["cat.jpg", "cat.jpg", "Cat.JPG", "cat (2).jpg", "cat.jpg", "README", "readme"].map((x, i) => n.take(x, i))).toEqual([
      "cat.jpg", "cat (2).jpg", "Cat (3).JPG", "cat (2) (2).jpg", "cat (4).jpg", "README", "readme (2)",
    ]);
  });

  test("fallback names are unique too", () => {
    const n = new EntryNames();
    expect([n.take(null, 0), n.take("file-1", 1), n.take("", 0)]).toEqual(["file-1", "file-1 (2)", "file-1 (3)"]);
  });
});
