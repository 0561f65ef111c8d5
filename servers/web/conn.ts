/**
 * @module conn
 * The connection under a request. Bun passes its server to `fetch` as the
 * second argument, which Hono makes `c.env`; in-process tests pass a
 * stand-in, or nothing.
 */
import type { Context } from "hono";

/** The part of Bun's `Server` the web server uses. */
export interface Conn {
  requestIP(req: Request): { address: string } | null;
  timeout(req: Request, seconds: number): void;
}

/** The web app's Hono environment: the connection, and the client the request counts against. */
export type WebEnv = { Bindings: Conn; Variables: { client: string } };

/** The socket's peer address ("" when there is no socket, as in `app.request()`). */
export function peerAddress(c: Context<WebEnv>): string {
  return (c.env as Conn | undefined)?.requestIP(c.req.raw)?.address ?? "";
}

/** Lifts the idle timeout for this request: an event stream stays open however quiet it is. */
export function keepOpen(c: Context<WebEnv>): void {
  (c.env as Conn | undefined)?.timeout(c.req.raw, 0);
}
