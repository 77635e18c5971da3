import type { CredentialsEmailEvent } from '../outbox';
import { escapeHtml } from './html';

/** The client's welcome email: where to log in, with which email and password, from which agency. */
export function credentialsEmail(event: CredentialsEmailEvent, password: string, loginUrl: string) {
  const subject = `${event.agencyName} set up your account`;
  const text = [
    `Hello ${event.clientName},`,
    '',
    `${event.agencyName} has created an account for you.`,
    '',
    `Log in at: ${loginUrl}`,
    `Email: ${event.to}`,
    `Password: ${password}`,
    '',
    'Please change your password after your first login.',
  ].join('\n');
  const html = `<p>Hello ${escapeHtml(event.clientName)},</p>
<p>${escapeHtml(event.agencyName)} has created an account for you.</p>
<ul>
<li>Log in at: <a href="${escapeHtml(loginUrl)}">${escapeHtml(loginUrl)}</a></li>
<li>Email: ${escapeHtml(event.to)}</li>
<li>Password: <code>${escapeHtml(password)}</code></li>
</ul>
<p>Please change your password after your first login.</p>`;
  return { subject, text, html };
}
