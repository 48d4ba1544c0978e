// Where the login page sends the browser after a successful login (`/login?next=…`): only a path of
// this console, so a crafted link cannot turn the login page into a redirect to another site. Checking
// the text alone is not enough: Chromium reads `/\evil.example/x` as `//evil.example/x`, and the URL
// parser drops tabs and newlines (`/\t/evil.example`), so the target is parsed against the page's own
// origin and kept only when it stays there.

/** Backslashes (read as slashes) and control characters (dropped by the URL parser) never appear in a path we link to. */
const SUSPICIOUS = /[\\\u0000-\u001f\u007f]/;

export function safeNextPath(next: string | null, origin: string): string {
  if (!next || !next.startsWith("/") || next.startsWith("//") || SUSPICIOUS.test(next)) return "/";
  let url: URL;
  try {
    url = new URL(next, origin);
  } catch {
    return "/";
  }
  if (url.origin !== new URL(origin).origin) return "/";
  return `${url.pathname}${url.search}${url.hash}`;
}
