import { describe, expect, test } from "bun:test";
import { EntryNames, isSafeName, MAX_NAME_BYTES, sanitizeName } from "./names.ts";

const bytes = (s: string) => Buffer.byteLength(s, "utf8");

/** What every produced name must satisfy to be a safe file and zip entry name. */
function expectSafe(name: string) {
  expect(name.length).toBeGreaterThan(0);
  expect(name).not.toMatch(/[/\\\x00-\x1f\x7f]/);
  expect(name).not.toContain("..");
  expect(name).not.toMatch(/^[. ]/);
  expect(name).not.toMatch(/[. ]$/);
  expect(bytes(name)).toBeLessThanOrEqual(MAX_NAME_BYTES);
  expect(name.normalize("NFC")).toBe(name);
  expect(isSafeName(name)).toBe(true);
}

describe("sanitizeName", () => {
  test.each([
    ["cat.jpg", "cat.jpg"],
    ["../../etc/passwd", "passwd"],
    ["/etc/passwd", "passwd"],
    ["..\\..\\windows\\win.ini", "win.ini"],
    ["C:\\Users\\me\\report.pdf", "report.pdf"],
    ["a/b/", "b"],
    ["evil\x00.txt", "evil.txt"],
    ["tab\tand\nnewline.txt", "tabandnewline.txt"],
    ["...hidden", "hidden"],
    ["  spaced  .txt  ", "spaced .txt"],
    ["trailing...", "trailing"],
    ["double..dot..txt", "double.dot.txt"],
    ["what?<is>:this|*.txt", "what__is__this__.txt"],
    ['say "hi".txt', "say _hi_.txt"],
  ])("%j -> %j", (raw, want) => {
    expect(sanitizeName(raw)).toBe(want);
    expectSafe(sanitizeName(raw));
  });

  test.each(["", ".", "..", "...", "/", "../..", "\x00\x01", " . ", "\u202e\u200b"])("nothing usable in %j", (raw) => {
    expect(sanitizeName(raw)).toBe("");
  });

  test("Windows device names get a _ prefix, whatever the case or extension", () => {
    for (const n of ["CON", "con", "prn.txt", "AUX.tar.gz", "NUL", "com1", "COM9.log", "lpt1", "LPT9.doc", "con .txt"])
      expect(sanitizeName(n).startsWith("_")).toBe(true);
    for (const n of ["console.txt", "com10", "lpt", "nully.txt", "icon.png"]) expect(sanitizeName(n)).toBe(n);
  });

  test("bidi overrides and zero-width characters are removed (no fake extension)", () => {
    // "invoice‮fdp.exe" shows as "invoiceexe.pdf" in a bidi-aware UI
    expect(sanitizeName("invoice\u202efdp.exe")).toBe("invoicefdp.exe");
    expect(sanitizeName("a\u200bb\u200c\u200d\u2060\ufeffc.txt")).toBe("abc.txt");
    expect(sanitizeName("x\u2066y\u2069.txt")).toBe("xy.txt");
    expect(sanitizeName("line\u2028sep.txt")).toBe("linesep.txt");
  });

  test("unicode is normalised to NFC and kept", () => {
    const decomposed = "cafe\u0301.txt";
    expect(sanitizeName(decomposed)).toBe("caf\u00e9.txt");
    expect(sanitizeName("日本語のファイル.pdf")).toBe("日本語のファイル.pdf");
    expect(sanitizeName("emoji 😀.png")).toBe("emoji 😀.png");
  });

  test("fullwidth and lookalike slashes cannot make a path", () => {
    for (const raw of ["..／..／etc／passwd", "a\u2215b", "a\u29f8b"]) {
      const s = sanitizeName(raw);
      expectSafe(s);
    }
  });

  test("very long names are cut to ~150 UTF-8 bytes keeping the extension", () => {
    const ascii = sanitizeName(`${"a".repeat(400)}.jpeg`);
    expect(bytes(ascii)).toBeLessThanOrEqual(MAX_NAME_BYTES);
    expect(ascii.endsWith(".jpeg")).toBe(true);
    const multi = sanitizeName(`${"é".repeat(300)}.txt`);
    expect(bytes(multi)).toBeLessThanOrEqual(MAX_NAME_BYTES);
    expect(multi.endsWith(".txt")).toBe(true);
    expect(multi).not.toContain("\ufffd");
    const astral = sanitizeName(`${"😀".repeat(100)}.png`);
    expect(bytes(astral)).toBeLessThanOrEqual(MAX_NAME_BYTES);
    expect(astral.endsWith(".png")).toBe(true);
    expect(astral.replace(".png", "")).toMatch(/^(😀)+$/u); // no split surrogate pair
    const noExt = sanitizeName("b".repeat(1000));
    expect(noExt).toBe("b".repeat(MAX_NAME_BYTES));
  });

  test("any input gives a safe name or nothing", () => {
    let seed = 7;
    const rnd = () => ((seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) / 2 ** 32);
    const alphabet = ["a", ".", "/", "\\", " ", "\x00", "\u202e", "é", "😀", "C", "O", "N", ":", "\n", "e\u0301", "\u200b"];
    for (let i = 0; i < 2000; i++) {
      const raw = Array.from({ length: Math.floor(rnd() * 40) }, () => alphabet[Math.floor(rnd() * alphabet.length)]).join("");
      const s = sanitizeName(raw);
      if (s) expectSafe(s);
    }
  });
});

describe("EntryNames", () => {
  test("de-duplicates before the extension, also across case", () => {
    const n = new EntryNames();
    expect(["cat.jpg", "cat.jpg", "Cat.JPG", "cat (2).jpg", "cat.jpg", "README", "readme"].map((x, i) => n.take(x, i))).toEqual([
      "cat.jpg", "cat (2).jpg", "Cat (3).JPG", "cat (2) (2).jpg", "cat (4).jpg", "README", "readme (2)",
    ]);
  });

  test("applies the sanitiser again (a second check): nothing unsafe gets in, whatever the record says", () => {
    const n = new EntryNames();
    for (const [raw, want] of [["../../etc/passwd", "passwd"], ["a\\b.txt", "b.txt"], ["evil\u0000.txt", "evil.txt"], ["invoice\u202efdp.exe", "invoicefdp.exe"], ["..", "file-5"], [null, "file-6"]] as const) {
      const got = n.take(raw, raw === null ? 5 : 4);
      expect(got).toBe(want);
      expectSafe(got);
    }
  });

  test("fallback names are unique too, and long names stay within the limit with their counter", () => {
    const n = new EntryNames();
    expect([n.take(null, 0), n.take("file-1", 1), n.take("", 0)]).toEqual(["file-1", "file-1 (2)", "file-1 (3)"]);
    const long = `${"é".repeat(300)}.jpg`;
    const [a, b] = [n.take(long, 0), n.take(long, 1)];
    expect(b.endsWith(" (2).jpg")).toBe(true);
    for (const x of [a, b]) expectSafe(x);
  });
});
