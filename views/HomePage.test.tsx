import { expect, test } from "bun:test";
import { badLines, HomePage } from "./HomePage.tsx";

const bad = (url: string, line: number) => ({ line, url, reason: "not a valid URL" });

test("bad lines are numbered as in the textarea; a text reported twice takes its next line", () => {
  const text = "https://ok/1\nx\n  x  \nhttps://ok/2\ny";
  expect(badLines(text, [bad("x", 2), bad("x", 3), bad("y", 5)]).map((b) => b.line)).toEqual([2, 3, 5]);
  const long = `https://a/${"z".repeat(400)} tail`;
  expect(badLines(`ok\n${long}`, [bad(long.slice(0, 300), 9)])[0]!.line).toBe(2); // reported cut short
  expect(badLines("ok", [bad("gone", 7)])[0]!.line).toBe(7); // not in the text: the server's number
});

test("badLines looks at each line once, however many lines and reports", () => {
  for (const n of [3_000, 30_000]) {
    const text = Array.from({ length: n }, () => "x").join("\n");
    const reports = Array.from({ length: 50 }, (_, i) => bad("x", i + 1));
    let examined = 0;
    const out = badLines(text, reports, (line) => (examined++, line.trim()));
    expect(examined).toBe(n);
    expect(out.map((b) => b.line)).toEqual(reports.map((r) => r.line));
  }
});

test("the form shows the message and each bad line next to its number", () => {
  const html = String(<HomePage maxUrls={50} urlsText={"ok\nftp://x"} error="1 of 2 lines are not valid" invalid={[bad("ftp://x", 2)]} />);
  expect(html).toContain("1 of 2 lines are not valid");
  expect(html).toContain('<span class="line-no">line 2</span>');
  expect(html).not.toMatch(/<script>|<style/); // no inline script or style (the CSP allows none)
});
