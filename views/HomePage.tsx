/**
 * The home page: one textarea of URLs. Plain HTML first (posts to /jobs and
 * follows the 303); with htmx the post stays in the page and the server's
 * `HX-Redirect` takes the browser to the job. Validation errors come back as
 * this same page, with each offending line marked.
 */
import { SHOWN_URL_CHARS, type InvalidLine } from "../servers/web/urls.ts";
import { Layout } from "./Layout.tsx";

export interface HomePageProps {
  maxUrls: number;
  /** the link's lifetimes to offer: the default and the longest allowed, in seconds */
  linkTtl?: { def: number; max: number };
  urlsText?: string;
  error?: string;
  invalid?: InvalidLine[];
}

export const EXAMPLE_URLS = [
  "https://www.rfc-editor.org/rfc/rfc9110.txt",
  "https://www.rfc-editor.org/rfc/rfc9112.txt",
  "https://upload.wikimedia.org/wikipedia/commons/4/47/PNG_transparency_demonstration_1.png",
].join("\n");

/**
 * The offending lines, numbered as they appear in the re-rendered textarea
 * (the server drops blank and comment lines, so the request's numbers can
 * differ). One pass over the text: each line's key (`keyOf`, injectable so a
 * test can count the work) is looked up among the reported lines, and a line
 * reported twice takes the next line with that text.
 */
export function badLines(text: string, invalid: InvalidLine[], keyOf = (line: string) => line.trim().slice(0, SHOWN_URL_CHARS)): InvalidLine[] {
  if (invalid.length === 0) return [];
  const found = new Map<string, { lines: number[]; next: number }>(invalid.map((bad) => [bad.url, { lines: [], next: 0 }]));
  text.split(/\r\n|\r|\n/).forEach((line, n) => found.get(keyOf(line))?.lines.push(n + 1));
  return invalid.map((bad) => {
    const f = found.get(bad.url)!;
    return { line: f.lines[f.next++] ?? bad.line, url: bad.url, reason: bad.reason };
  });
}

const LIFETIMES: [number, string][] = [
  [600, "10 minutes"],
  [3600, "1 hour"],
  [86_400, "1 day"],
  [604_800, "7 days"],
];

/** How long the link works: the usual lifetimes up to the longest allowed, and the default among them. */
function LifetimeChoice(p: { def: number; max: number }) {
  const options = LIFETIMES.filter(([s]) => s <= p.max);
  if (!options.some(([s]) => s === p.def)) options.push([p.def, `${Math.round(p.def / 60)} minutes`]);
  options.sort((a, b) => a[0] - b[0]);
  return (
    <p class="lifetime">
      <label for="ttl">The link works for</label>{" "}
      <select id="ttl" name="ttl_seconds">
        {options.map(([s, words]) => (
          <option value={String(s)} selected={s === p.def}>
            {words}
          </option>
        ))}
      </select>
    </p>
  );
}

export function HomePage(p: HomePageProps) {
  const text = p.urlsText ?? EXAMPLE_URLS;
  const invalid = badLines(text, p.invalid ?? []);
  return (
    <Layout title="linkpack · pack files from links into one zip">
      <main class="home">
        <h1>Pack files from links into one zip</h1>
        <p class="lead">
          Paste up to {p.maxUrls} file links. The server downloads them, packs them into a zip and gives you a link that works once.
        </p>
        <form
          id="pack-form"
          class="card"
          method="post"
          action="/jobs"
          hx-post="/jobs"
          hx-target="#pack-form"
          hx-select="#pack-form"
          hx-swap="outerHTML"
          hx-disabled-elt="find button"
        >
          {p.error && (
            <div class="form-error" role="alert" id="urls-error">
              <p>
                <strong>{p.error}</strong>
              </p>
              {invalid.length > 0 && (
                <ul class="bad-lines">
                  {invalid.map((i) => (
                    <li>
                      <span class="line-no">line {i.line}</span> <code>{i.url}</code> <span class="reason">{i.reason}</span>
                    </li>
                  ))}
                </ul>
              )}
            </div>
          )}
          <label for="urls">File links, one per line</label>
          <textarea
            id="urls"
            name="urls"
            rows={10}
            spellcheck={false}
            autocomplete="off"
            required
            aria-invalid={p.error ? "true" : undefined}
            aria-describedby={p.error ? "urls-help urls-error" : "urls-help"}
          >
            {text}
          </textarea>
          <p id="urls-help" class="hint">
            http and https links only. Blank lines and lines starting with # are skipped.
          </p>
          {p.linkTtl && <LifetimeChoice {...p.linkTtl} />}
          <div class="actions">
            <button type="submit" class="button primary">
              Pack into a zip
            </button>
            <span class="htmx-indicator muted">Sending…</span>
          </div>
        </form>
      </main>
    </Layout>
  );
}
