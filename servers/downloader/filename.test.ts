import { describe, expect, test } from "bun:test";
import { chooseName, extensionFor, urlName } from "./filename.ts";

describe("urlName and chooseName", () => {
  test("last path segment, percent-decoded, then sanitised", () => {
    expect(urlName(new URL("https://h/a/b/photo%20one.jpg?x=1"))).toBe("photo one.jpg");
    expect(urlName(new URL("https://h/bad%E0%A4%A.txt"))).toBe("bad%E0%A4%A.txt");
    const traversal = new URL("https://h/dl/..%2F..%2Fetc%2Fpasswd");
    expect(chooseName({ url: traversal, index: 0 })).toBe("passwd");
    expect(chooseName({ url: new URL("https://h/x/%00evil%2e%2e"), index: 0 })).toBe("evil");
  });

  test("Content-Disposition wins over the URL", () => {
    expect(chooseName({ url: new URL("https://h/download?id=3"), disposition: 'attachment; filename="report.pdf"', index: 2 })).toBe("report.pdf");
    expect(chooseName({ url: new URL("https://h/x.bin"), disposition: "attachment; filename=\"../../.ssh/authorized_keys\"", index: 0 })).toBe("authorized_keys");
  });

  test("empty name -> file-N with an extension from Content-Type", () => {
    expect(chooseName({ url: new URL("https://h/"), contentType: "image/jpeg", index: 0 })).toBe("file-1.jpg");
    expect(chooseName({ url: new URL("https://h/..."), contentType: "application/octet-stream", index: 4 })).toBe("file-5");
    expect(chooseName({ url: new URL("https://h/%2e%2e"), contentType: "text/plain; charset=utf-8", index: 9 })).toBe("file-10.txt");
  });

  test("a name without extension gets one from Content-Type; one with an extension keeps it", () => {
    expect(chooseName({ url: new URL("https://h/download"), contentType: "application/pdf", index: 0 })).toBe("download.pdf");
    expect(chooseName({ url: new URL("https://h/cat.png"), contentType: "image/jpeg", index: 0 })).toBe("cat.png");
  });

  test("extensionFor", () => {
    expect(extensionFor("IMAGE/PNG")).toBe(".png");
    expect(extensionFor("text/csv; charset=utf-8")).toBe(".csv");
    expect(extensionFor("application/x-unknown")).toBe("");
    expect(extensionFor(null)).toBe("");
  });
});
