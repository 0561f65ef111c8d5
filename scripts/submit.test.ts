/** `bun run submit` against the real test stack: progress from the event stream, the link, exit codes. */
import { describe, expect, test } from "bun:test";
import { resolve } from "node:path";
import { useStack } from "../test/stack.ts";
import { entries } from "../test/support/jobs.ts";
import { photos } from "../test/support/fixtures.ts";

const SUBMIT = resolve(import.meta.dir, "submit.ts");

async function run(args: string[], stdin: string, env: Record<string, string>) {
  const p = Bun.spawn(["bun", SUBMIT, ...args], { stdin: new TextEncoder().encode(stdin), stdout: "pipe", stderr: "pipe", env });
  const [out, err, code] = await Promise.all([new Response(p.stdout).text(), new Response(p.stderr).text(), p.exited]);
  return { out, err, code };
}

describe("bun run submit", () => {
  test("10 photos from stdin: per-file lines, the zip bar, the link; exit 0", async () => {
    const { web, fixtures, env } = await useStack();
    const urls = photos().map((p) => fixtures.route(`/cli-ok/${p.name}`, p.bytes, p.type));
    const r = await run(["-", "--url", web], urls.join("\n") + "\n", env);
    expect(r.err).toBe("");
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/^job [0-9a-f]{32}: http/);
    for (const p of photos()) expect(r.out).toContain(p.name);
    expect(r.out).toContain("[####################] 100% zip: done");
    const link = /^ready: (\S+)/m.exec(r.out)?.[1];
    expect(link).toBeDefined();
    const zip = entries(new Uint8Array(await (await fetch(link!)).arrayBuffer()));
    expect(Object.keys(zip).length).toBe(10);
  }, 120_000);

  test("a job whose every URL fails: the reasons and a non-zero exit", async () => {
    const { web, fixtures, env, closedPort } = await useStack();
    const missing = `${fixtures.origin}/cli-fail/nothing-here.jpg`;
    const refused = `http://127.0.0.1:${closedPort}/x.jpg`;
    const file = `${env.RUN_DIR}/cli-fail-urls.txt`;
    await Bun.write(file, `# two bad links\n${missing}\n${refused}\n`);
    const r = await run([file, "--url", web], "", env);
    expect(r.code).toBe(1);
    expect(r.out).toContain("failed: ");
    expect(r.err).toMatch(/^failed: /m);
  }, 120_000);

  test("a rejected list: each bad line and exit 2", async () => {
    const { web, env } = await useStack();
    const r = await run(["-", "--url", web], "https://ok.example/a\nftp://x/y\n", env);
    expect(r.code).toBe(2);
    expect(r.err).toContain("line 2: ftp://x/y");
  }, 60_000);
});
