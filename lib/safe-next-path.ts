// Where the login page sends the browser after a successful login (`/login?next=…`): only a path of
// this console, so a crafted link cannot turn the login page into a redirect to another site.
export function safeNextPath(next: string | null, _origin: string): string {
  return next && next.startsWith("/") && !next.startsWith("//") ? next : "/";
}
