/** One job's events and state are never sent to another job's page or stream. */
import { expect, test } from "bun:test";
import { useStack } from "../stack.ts";
import { sseClient } from "../support/events.ts";
import { photos, trickle } from "../support/fixtures.ts";
import { submit } from "../support/jobs.ts";

test("two jobs at once: each stream (HTML and JSON) and page carries only its own job", async () => {
  const { web, fixtures } = await useStack();
  const mk = (tag: string) => photos().slice(0, 4).map((p) => fixtures.route(`/iso-${tag}/${tag}-${p.name}`, trickle(p.bytes, 1500, 5), p.type));
  const a = await submit(web, mk("alpha"));
  const b = await submit(web, mk("bravo"));
  const collect = async (id: string, format: string) => {
    const c = await sseClient(`${web}/jobs/${id}/events${format}`);
    await c.next((e) => e.event === "done");
    c.close();
    return c.seen;
  };
  const [aHtml, bHtml, aJson, bJson] = await Promise.all([collect(a, ""), collect(b, ""), collect(a, "?format=json"), collect(b, "?format=json")]);
  for (const [mine, other, tag, events] of [
    [a, b, "bravo", aHtml],
    [b, a, "alpha", bHtml],
    [a, b, "bravo", aJson],
    [b, a, "alpha", bJson],
  ] as const) {
    expect(events.at(-1)!.event).toBe("done");
    const all = events.map((e) => e.data).join("\n");
    expect(all).not.toContain(other);
    expect(all).not.toContain(`iso-${tag}`);
    for (const e of events.filter((e) => e.event === "job")) expect((JSON.parse(e.data) as { id: string }).id).toBe(mine);
  }
  const pageA = await (await fetch(`${web}/jobs/${a}`)).text();
  expect(pageA).toContain("iso-alpha");
  expect(pageA).not.toContain(b);
  expect(pageA).not.toContain("iso-bravo");
}, 90_000);
