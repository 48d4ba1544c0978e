// The security headers of every response the console sends: pages, API, socket.io polling, refusals.
// Pages get a Content-Security-Policy with a fresh nonce: Next.js (App Router) inlines its flight data
// as <script> tags, and reads the nonce it must put on them from the request's own CSP header, which
// the web tier sets (pages are rendered per request for this: app/layout.tsx). Everything else gets the
// same policy without a nonce. Nothing inline runs without the nonce, nothing loads from elsewhere, and
// no other site may frame the console (clickjacking a switchover button).
import crypto from "node:crypto";

/** A nonce per page response (128 random bits, base64 as CSP and Next.js expect). */
export function newNonce(): string {
  return crypto.randomBytes(16).toString("base64");
}

export function contentSecurityPolicy(opts: { nonce: string | null; dev: boolean }): string {
  const nonce = opts.nonce ? ` 'nonce-${opts.nonce}'` : "";
  return [
    "default-src 'self'",
    // Development only: React's dev build evaluates code to rebuild server error stacks in the browser.
    `script-src 'self'${nonce}${opts.dev ? " 'unsafe-eval'" : ""}`,
    `style-src 'self'${nonce}`,
    "img-src 'self' data: blob:",
    "font-src 'self'",
    // The API and the live socket (ws: on the same host and port, which 'self' covers).
    "connect-src 'self'",
    "object-src 'none'",
    "base-uri 'self'",
    "form-action 'self'",
    "frame-ancestors 'none'",
  ].join("; ");
}

export function securityHeaders(opts: { nonce: string | null; dev: boolean }): Record<string, string> {
  return {
    "Content-Security-Policy": contentSecurityPolicy(opts),
    "X-Content-Type-Options": "nosniff",
    // Kept beside frame-ancestors for browsers that predate CSP 2.
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",
  };
}
