/** Text to put into an email's HTML: every character that could open markup is escaped. */
export function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

/** `base` + `path` with `token=` in the query (the console page reads it from there). */
export function tokenLink(base: string, path: string, token: string): string {
  const url = new URL(path, base.endsWith('/') ? base : `${base}/`);
  url.searchParams.set('token', token);
  return url.toString();
}

/** The platform's own name, for emails to agency users (a client's emails name its agency). */
export const PLATFORM_NAME = 'Agency Accounts';
