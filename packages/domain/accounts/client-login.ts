import { now as clockNow } from '#core/clock';
import { newId } from '#core/ids';
import { seal } from '#crypto/secret-box';
import { type AgencyItem, enableClientLogin, type SubAccountItem } from '#db/items/account';
import { findEmail, getUser, putUser, setPassword, type UserItem } from '#db/items/user';
import { itemKinds } from '#db/schema';
import { type NamedItem, transact } from '#db/transact';
import { audited } from '../audit/record';
import { generatePassword, hashPassword } from '../auth/passwords';
import { newOutboxId, outboxWrite } from '../outbox';
import { emailTaken, requireAgency } from './agencies';
import { emailNotVerified } from './email-verification';
import { accountClosed } from './errors';

/**
 * A client's login: a generated password (shown once, emailed sealed through the outbox) for a
 * new client user, or a new password for the existing one, which ends its earlier sessions.
 */
export async function newClientLogin(
  sub: SubAccountItem,
  agency: AgencyItem,
  user: { create: true } | { existing: UserItem },
  now: Date,
): Promise<{ password: string; writes: NamedItem[] }> {
  const email = sub.email ?? '';
  const password = generatePassword();
  const outboxId = newOutboxId();
  const [passwordHash, sealedPassword] = await Promise.all([hashPassword(password), seal(password, outboxId)]);
  const iso = now.toISOString();
  const userWrites: NamedItem[] =
    'create' in user
      ? putUser(
          {
            kind: itemKinds.user,
            id: newId('user'),
            email,
            name: sub.name,
            passwordHash,
            accountId: sub.id,
            accountType: 'sub_account',
            agencyId: agency.id,
            createdAt: iso,
          },
          emailTaken,
        )
      : [setPassword(user.existing.id, passwordHash, iso)];
  const event = {
    type: 'sub_account.credentials' as const,
    subAccountId: sub.id,
    agencyId: agency.id,
    agencyName: agency.name,
    clientName: sub.name,
    to: email,
    sealedPassword,
  };
  return { password, writes: [...userWrites, outboxWrite(outboxId, event, now)] };
}

/**
 * POST /v1/sub-accounts/{id}/credentials: gives the client a login when it had none, or a new
 * password (every earlier session of the client ends). Emails a third party, so the agency's
 * email must be verified. The client user is found by the sub-account's email: a user of
 * that email in another account means the email is taken (409).
 */
export async function issueClientCredentials(sub: SubAccountItem): Promise<{ password: string; email: string }> {
  if (sub.status !== 'active') throw accountClosed();
  const email = sub.email ?? '';
  const [agency, guard] = await Promise.all([requireAgency(sub.agencyId), findEmail(email)]);
  if (!agency.emailVerified) throw emailNotVerified();
  const existing = guard && (await getUser(guard.userId));
  if (guard && existing?.accountId !== sub.id) throw emailTaken();
  const now = clockNow();
  const login = await newClientLogin(sub, agency, existing ? { existing } : { create: true }, now);
  // The record says credentials were issued, never what they are.
  const audit = audited({
    agencyId: sub.agencyId,
    action: 'sub_account.credentials_issued',
    target: { type: 'sub_account', id: sub.id },
    changes: (sub.clientLogin ?? true) ? [] : [{ field: 'clientLogin', before: false, after: true }],
  });
  await transact([enableClientLogin(sub.id, now.toISOString(), () => accountClosed()), ...login.writes, audit]);
  return { password: login.password, email };
}
