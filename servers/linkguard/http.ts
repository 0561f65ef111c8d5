/**
 * @module linkguard/http
 * nginx's auth_request target, `GET /lease`, asked before each request of a
 * link with the link's normalised path, the client's method, Range and
 * If-Range in `X-Original-*` headers, the link's checked expiry in
 * `X-Link-Expires` (kept so the ledger can forget the link once it has
 * expired) and the internal token. Answers:
 * - 204: go ahead; for a GET with the lease token in `X-Lease` (nginx logs it);
 * - 401 with `X-Guard` = `used` (nginx: 410), `busy` (409, `Retry-After`) or
 *   `range` (416) and `X-Guard-Message`, the sentence nginx sends as the body.
 * HEAD never takes a lease; it is refused like GET once the link is used.
 * `GET /healthz`: 200 while the ledger answers and the access log is read.
 */
import { stat } from "node:fs/promises";
import { archiveFile, linkExpiry, linkKey } from "../shared/link.ts";
import type { Logger } from "../shared/log.ts";
import { metricsResponse, type Metrics } from "../shared/metrics.ts";
import { TOKEN_HEADER, tokenMatches } from "../shared/secrets.ts";
import type { Ledger } from "./ledger.ts";
import { archiveInfo, startOffset } from "./range.ts";

export interface GuardDeps {
  ledger: Pick<Ledger, "take" | "used">;
  archivesDir: string;
  internalToken: string;
  log: Logger;
  /** nginx's send_timeout: a vanished holder frees its lease within it */
  sendTimeoutS: number;
  healthy(): Promise<boolean>;
  metrics?: Metrics;
}

const RESUME = "resume your own interrupted download instead (curl -C - or Resume in your browser)";

function refuse(state: "used" | "busy" | "range", message: string, retryAfterS?: number): Response {
  const headers: Record<string, string> = { "x-guard": state, "x-guard-message": message.replace(/[^\x20-\x7e]/g, "?") };
  if (retryAfterS !== undefined) headers["x-guard-retry"] = String(retryAfterS);
  return new Response(null, { status: 401, headers });
}

const usedUp = () => refuse("used", "This link has been used: the archive went out in full and was deleted. Each link works once.");

export function guardHandler(deps: GuardDeps): (req: Request) => Promise<Response> {
  return async (req) => {
    const { pathname } = new URL(req.url);
    if (pathname === "/healthz") return (await deps.healthy()) ? new Response("ok") : new Response("not ready", { status: 503 });
    if (pathname === "/metrics" && deps.metrics) return metricsResponse(deps.metrics);
    if (pathname !== "/lease") return new Response("not found", { status: 404 });
    if (!tokenMatches(req.headers.get(TOKEN_HEADER), deps.internalToken)) return new Response("forbidden", { status: 403 });
    const key = linkKey(req.headers.get("x-original-uri"));
    if (key === null) return new Response("not a link", { status: 403 });
    if (await deps.ledger.used(key)) return usedUp();
    const st = await stat(archiveFile(deps.archivesDir, key)).catch(() => null);
    if (!st?.isFile()) return usedUp();
    if ((req.headers.get("x-original-method") ?? "GET").toUpperCase() !== "GET") return new Response(null, { status: 204 });

    const info = archiveInfo(st);
    const at = startOffset(req.headers.get("x-original-range") || null, req.headers.get("x-original-if-range") || null, info);
    if ("refused" in at) return refuse("range", `Refused: ${at.refused}.`);
    const got = await deps.ledger.take(key, at.start, info.size, Date.now(), linkExpiry(req.headers.get("x-link-expires")));
    switch (got.state) {
      case "granted":
        deps.log.info("lease granted", { key, start: at.start, size: info.size });
        return new Response(null, { status: 204, headers: { "x-lease": got.token } });
      case "used":
        return usedUp();
      case "busy": {
        const retry = Math.max(1, Math.min(Math.ceil(got.retryAfterMs / 1000), deps.sendTimeoutS + 1));
        return refuse("busy", `Another download of this link is running. Try again in ${retry} s, or ${RESUME}.`, retry);
      }
      case "behind":
        return refuse(
          "range",
          `This link already sent ${got.delivered} of ${got.size} bytes, so it cannot start again at byte ${at.start}: ${RESUME}; ` +
            `a resumed request must ask for "Range: bytes=N-" with N of at least ${got.resumeFrom}.`,
        );
    }
  };
}
