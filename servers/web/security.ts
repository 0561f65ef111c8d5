/**
 * @module security
 * Security headers on every response of the web server. The pages load only
 * the server's own scripts and styles (no inline script or style anywhere;
 * htmx is told not to inject its indicator style), may not be framed, and
 * send no Referer: the job page holds the one-time link.
 */
import { createMiddleware } from "hono/factory";

const CONTENT_SECURITY_POLICY = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "connect-src 'self'",
  "form-action 'self'",
  "base-uri 'none'",
  "object-src 'none'",
  "frame-ancestors 'none'",
].join("; ");

export const SECURITY_HEADERS: Record<string, string> = {
  "Content-Security-Policy": CONTENT_SECURITY_POLICY,
  "Referrer-Policy": "no-referrer",
  "X-Frame-Options": "DENY",
  "X-Content-Type-Options": "nosniff",
};

/** Middleware: adds `SECURITY_HEADERS` to whatever answers, errors included. */
export function securityHeaders() {
  return createMiddleware(async (c, next) => {
    await next();
    for (const [name, value] of Object.entries(SECURITY_HEADERS)) c.res.headers.set(name, value);
  });
}
