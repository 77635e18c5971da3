import { now as clockNow } from '#core/clock';
import { AppError, notFound } from '#core/errors';
import { newId } from '#core/ids';
import { type AccountItem, type AgencyItem, getAccount, putAccount, updateAgency } from '#db/items/account';
import { putUser, type UserItem } from '#db/items/user';
import { itemKinds } from '#db/schema';
import { transact } from '#db/transact';
import { audited, changesOf } from '../audit/record';
import { issueSession } from '../auth/issue-session';
import { checkNewPassword } from '../auth/password-policy';
import { hashPassword } from '../auth/passwords';
import { changePlan, planFeatures } from '../features';
import { verificationWrites } from './email-verification';
import type { AgencyPatchBody, SignupBody } from './schemas';
import { agencyView } from './views';

export async function signUpAgency(body: SignupBody) {
  await checkNewPassword(body.password, 'password', [body.email, body.name, body.agencyName]);
  const at = clockNow();
  const now = at.toISOString();
  const agencyId = newId('agency');
  // Every agency starts on starter: plans (and what they unlock) are the platform's to set.
  const plan = 'starter';
  const agency: AgencyItem = {
    kind: itemKinds.account,
    id: agencyId,
    type: 'agency',
    agencyId,
    name: body.agencyName,
    email: body.email.toLowerCase(),
    plan,
    features: [...planFeatures[plan]],
    planEpoch: 0,
    emailVerified: false,
    status: 'active',
    createdAt: now,
    updatedAt: now,
  };
  const user: UserItem = {
    kind: itemKinds.user,
    id: newId('user'),
    email: body.email.toLowerCase(),
    name: body.name,
    passwordHash: await hashPassword(body.password),
    accountId: agencyId,
    accountType: 'agency',
    agencyId,
    createdAt: now,
  };
  // The owner's verification email goes out iff the agency is created.
  const verification = await verificationWrites(
    { agencyId, agencyName: agency.name, userId: user.id, userName: body.name, email: user.email },
    at,
  );
  // Its owner made it: the new user is the actor (the request had no principal yet).
  const audit = audited({
    agencyId,
    action: 'agency.created',
    target: { type: 'agency', id: agencyId },
    actor: { type: 'user', userId: user.id },
    changes: [...changesOf(undefined, agency, ['name', 'email', 'plan']), { field: 'ownerUserId', before: null, after: user.id }],
  });
  await transact([{ name: 'agency', write: putAccount(agency) }, ...putUser(user, emailTaken), ...verification, audit]);
  const session = await issueSession(user);
  return {
    agency: agencyView(agency),
    user: { id: user.id, email: user.email, name: user.name },
    ...session,
  };
}

export const emailTaken = () =>
  new AppError('email_taken', 'email: an account with this email already exists', [
    { field: 'email', message: 'already registered' },
  ]);

/** Plan changes race only with each other (the platform's own calls): a few rounds always settle them. */
const MAX_PLAN_ATTEMPTS = 5;

/**
 * The platform sets an agency's plan and/or status in one write to the agency item. A
 * downgrade takes the lost features from the agency and, through `featuresOf`, from every
 * sub-account at the same instant; an upgrade gives the agency its plan's features and gives
 * sub-accounts nothing until the agency allocates them. Suspension stops the agency's users,
 * assist tokens and API keys at their next request (authentication reads the agency item).
 */
export async function setAgency(agency: AccountItem, body: AgencyPatchBody) {
  let current: AccountItem | undefined = agency;
  for (let attempt = 1; current?.type === 'agency' && attempt <= MAX_PLAN_ATTEMPTS; attempt++) {
    const plan = body.plan && body.plan !== current.plan ? { plan: body.plan, ...changePlan(current, body.plan) } : undefined;
    const after = { ...current, ...plan, ...(body.status ? { status: body.status } : {}) };
    const changes = changesOf(current, after, ['plan', 'status', 'features']);
    // Actor: the platform (the only principal this route admits).
    const audit = changes.length
      ? [audited({ agencyId: current.id, action: 'agency.updated', target: { type: 'agency', id: current.id }, changes })]
      : [];
    const at = clockNow().toISOString();
    if (await updateAgency(current, { plan, status: body.status, at }, audit))
      return { agency: agencyView({ ...after, updatedAt: at }) };
    current = await getAccount(agency.id);
  }
  if (current?.type !== 'agency') throw notFound('Agency');
  throw new AppError('try_again', 'The agency changed during the update; retry', undefined, { retryAfterSeconds: 1 });
}

/** The agency item, or 404. */
export async function requireAgency(agencyId: string): Promise<AgencyItem> {
  const agency = await getAccount(agencyId);
  if (agency?.type !== 'agency') throw notFound('Agency');
  return agency;
}
