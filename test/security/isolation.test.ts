/** One job's events and state are never sent to another job's page or stream. */
import { expect, test } from "bun:test";
import { readSse } from "../../scripts/submit/sse-reader.ts";
import { useStack } from "../stack.ts";
import { photosOnce, submit } from "../e2e/util.ts";
import { slowRoute } from "../faults/helpers.ts";

test("two jobs at once: each stream (HTML and JSON) and page carries only its own job", async () => {
  const { web, fixtures } = await useStack();
  const mk = (tag: string) => photosOnce().slice(0, 4).map((p) => slowRoute(fixtures, `/iso-${tag}/${tag}-${p.name}`, p.bytes, 1500, 5));
  const a = await submit(web, mk("alpha"));
  const b = await submit(web, mk("bravo"));
  const collect = async (id: string, format: string) => {
    const r = await fetch(`${web}/jobs/${id}/events${format}`);
    const events = [];
    for await (const ev of readSse(r.body!)) {
      events.push(ev);
      if (ev.event === "done") break;
    }
    return events;
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
