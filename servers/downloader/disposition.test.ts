import { describe, expect, test } from "bun:test";
import { decodeExtValue, dispositionFilename } from "./disposition.ts";

describe("dispositionFilename", () => {
  test.each([
    ['attachment; filename="cat.jpg"', "cat.jpg"],
    ["attachment; filename=cat.jpg", "cat.jpg"],
    ["inline; FILENAME=Cat.JPG", "Cat.JPG"],
    ['attachment; filename="a;b.txt"; size=3', "a;b.txt"],
    ['attachment; filename="quote\\"d.txt"', 'quote"d.txt'],
    ['attachment;filename="no-space.txt"', "no-space.txt"],
    ['attachment; filename = "spaced.txt" ', "spaced.txt"],
    ["attachment; filename*=UTF-8''na%C3%AFve%20file.txt", "naïve file.txt"],
    ["attachment; filename*=utf-8'en'%E2%82%AC%20rates.pdf", "€ rates.pdf"],
    ["attachment; filename*=iso-8859-1'en'%A3%20rates.pdf", "£ rates.pdf"],
    // filename* wins whatever the order
    ["attachment; filename=\"fallback.txt\"; filename*=UTF-8''real.txt", "real.txt"],
    ["attachment; filename*=UTF-8''real.txt; filename=\"fallback.txt\"", "real.txt"],
    // a broken filename* falls back to filename
    ["attachment; filename*=UTF-8''%FF%FE.txt; filename=\"ok.txt\"", "ok.txt"],
    ["attachment; filename*=bogus; filename=\"ok.txt\"", "ok.txt"],
    // raw UTF-8 bytes in the header (arrive as Latin-1 code units)
    [`attachment; filename="${Buffer.from("résumé.pdf", "utf8").toString("latin1")}"`, "résumé.pdf"],
    // a parameter value that looks like another parameter does not count
    ['attachment; filename="x; filename*=UTF-8\'\'evil.exe"', "x; filename*=UTF-8''evil.exe"],
  ])("%s", (header, want) => {
    expect(dispositionFilename(header)).toBe(want);
  });

  test.each([null, undefined, "", "attachment", "inline; size=3", 'attachment; filename=""', "attachment; filename*=UTF-8''"])("no name in %j", (h) => {
    expect(dispositionFilename(h)).toBeNull();
  });

  test("the raw name is returned untrusted (sanitising is filename.ts's job)", () => {
    expect(dispositionFilename('attachment; filename="../../etc/passwd"')).toBe("../../etc/passwd");
  });
});

describe("decodeExtValue", () => {
  test("charset and language", () => {
    expect(decodeExtValue("UTF-8''%e2%9c%93")).toBe("✓");
    expect(decodeExtValue("UTF-8'de-DE'Gr%C3%BC%C3%9Fe")).toBe("Grüße");
    expect(decodeExtValue("koi8-r''%C1")).toBeNull();
    expect(decodeExtValue("no-quotes")).toBeNull();
  });
});
