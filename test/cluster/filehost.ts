/**
 * @module filehost
 * The cluster test's "internet": a file server run in a host of its own
 * (`bun test/cluster/filehost.ts ADDRESS PORT`), serving content.ts's files,
 * each body spread over the time its path says (so faults land mid-download),
 * with `Range: bytes=N-` answered `206` (the downloader resumes with it).
 * `GET /_stats` says how many bodies are being sent now to each client
 * address, so the test can cut a downloader while it is really downloading.
 */
import { fileBytes, parsePath } from "./content.ts";

const [hostname, port] = [Bun.argv[2] ?? "127.0.0.1", Number(Bun.argv[3] ?? 8000)];
const CHUNKS = 20;
const cache = new Map<string, Uint8Array>();
const active = new Map<string, number>();
let served = 0;
let ranged = 0;

const bump = (ip: string, d: number) => active.set(ip, (active.get(ip) ?? 0) + d);

const server = Bun.serve({
  hostname,
  port,
  idleTimeout: 0,
  fetch(req, srv) {
    const path = new URL(req.url).pathname;
    if (path === "/_stats") return Response.json({ active: Object.fromEntries(active), served, ranged });
    const spec = parsePath(path);
    if (!spec) return new Response("no such file\n", { status: 404 });
    let bytes = cache.get(path);
    if (!bytes) cache.set(path, (bytes = fileBytes(path)));
    let from = 0;
    const range = /^bytes=(\d+)-$/.exec(req.headers.get("range") ?? "");
    if (range) {
      from = Number(range[1]);
      if (from >= bytes.length) return new Response(null, { status: 416, headers: { "content-range": `bytes */${bytes.length}` } });
      ranged++;
    }
    const body = bytes.subarray(from);
    const ip = srv.requestIP(req)?.address ?? "?";
    const size = Math.ceil(body.length / CHUNKS);
    let i = 0;
    let open = true;
    const done = () => {
      if (open) (open = false), bump(ip, -1);
    };
    bump(ip, 1);
    const stream = new ReadableStream<Uint8Array>({
      async pull(c) {
        if (i * size >= body.length) {
          served++;
          done();
          return c.close();
        }
        if (i > 0) await Bun.sleep(spec.ms / CHUNKS);
        c.enqueue(body.slice(i * size, (i + 1) * size));
        i++;
      },
      cancel: done,
    });
    const headers: Record<string, string> = { "content-type": "text/plain", "accept-ranges": "bytes" };
    if (range) headers["content-range"] = `bytes ${from}-${bytes.length - 1}/${bytes.length}`;
    return new Response(stream, { status: range ? 206 : 200, headers });
  },
});
console.log(`file host on http://${hostname}:${server.port}`);
