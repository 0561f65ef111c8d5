/**
 * @module refused
 * A request refused for a reason the client can act on (wrong host,
 * cross-site, over a limit, busy): an `HTTPException` that may also say when
 * to try again. `app.onError` turns it into the answer and its `Retry-After`.
 */
import { HTTPException } from "hono/http-exception";
import type { ContentfulStatusCode } from "hono/utils/http-status";

export class Refused extends HTTPException {
  override name = "Refused";
  constructor(status: ContentfulStatusCode, message: string, readonly retryAfterSeconds?: number) {
    super(status, { message });
  }
}
