/** The home page: the URL form (works without JavaScript). */
import { Layout } from "./Layout.tsx";

export interface HomePageProps {
  maxUrls: number;
  urlsText?: string;
  error?: string;
  invalid?: { line: number; url: string; reason: string }[];
}

export function HomePage(p: HomePageProps) {
  return (
    <Layout title="linkpack">
      <h1>linkpack</h1>
      {p.error && <p role="alert">{p.error}</p>}
      {p.invalid && p.invalid.length > 0 && (
        <ul>
          {p.invalid.map((i) => (
            <li>
              line {i.line}: <code>{i.url}</code> — {i.reason}
            </li>
          ))}
        </ul>
      )}
      <form method="post" action="/jobs">
        <label for="urls">File URLs, one per line (at most {p.maxUrls})</label>
        <textarea id="urls" name="urls" rows={10}>{p.urlsText ?? ""}</textarea>
        <button type="submit">Pack</button>
      </form>
    </Layout>
  );
}
