import type { PasswordResetEvent, VerifyEmailEvent } from '../outbox';
import { escapeHtml, PLATFORM_NAME, tokenLink } from './html';

/**
 * The emails that carry a single-use link. Each holds the recipient's own link and nothing
 * else secret; the sender is named (a client's reset email names its agency).
 */
export function verifyEmail(event: VerifyEmailEvent, token: string, appUrl: string) {
  const link = tokenLink(appUrl, 'verify-email', token);
  const subject = `Confirm your email for ${event.agencyName}`;
  const text = [
    `Hello ${event.recipientName},`,
    '',
    `Please confirm this email address for your ${PLATFORM_NAME} agency "${event.agencyName}":`,
    link,
    '',
    'The link works once and expires in 24 hours. If you did not sign up, ignore this email.',
  ].join('\n');
  const html = `<p>Hello ${escapeHtml(event.recipientName)},</p>
<p>Please confirm this email address for your ${PLATFORM_NAME} agency “${escapeHtml(event.agencyName)}”:</p>
<p><a href="${escapeHtml(link)}">${escapeHtml(link)}</a></p>
<p>The link works once and expires in 24 hours. If you did not sign up, ignore this email.</p>`;
  return { subject, text, html };
}

export function passwordResetEmail(event: PasswordResetEvent, token: string, appUrl: string) {
  const link = tokenLink(appUrl, 'reset-password', token);
  const sender = event.agencyName ?? PLATFORM_NAME;
  const subject = `Reset your ${sender} password`;
  const greeting = event.recipientName ? `Hello ${event.recipientName},` : 'Hello,';
  const text = [
    greeting,
    '',
    `Someone asked to reset the password of your ${sender} account (${event.to}). To choose a new one, open:`,
    link,
    '',
    'The link works once and expires in 1 hour. If you did not ask for this, ignore this email: your password stays as it is.',
  ].join('\n');
  const html = `<p>${escapeHtml(greeting)}</p>
<p>Someone asked to reset the password of your ${escapeHtml(sender)} account (${escapeHtml(event.to)}). To choose a new one, open:</p>
<p><a href="${escapeHtml(link)}">${escapeHtml(link)}</a></p>
<p>The link works once and expires in 1 hour. If you did not ask for this, ignore this email: your password stays as it is.</p>`;
  return { subject, text, html };
}
