import { now as clockNow } from '../../core/clock';
import { AppError } from '../../core/errors';
import { newId } from '../../core/ids';
import { seal } from '../../crypto/secret-box';
import {
  type AccountItem,
  closeAccount,
  listSubAccounts as listSubAccountItems,
  putAccount,
  updateActiveAccount,
} from '../../db/items/account';
import { putUser, type UserItem } from '../../db/items/user';
import { itemKinds } from '../../db/schema';
import { transact } from '../../db/transact';
import { generatePassword, hashPassword } from '../auth/passwords';
import { featuresBeyondPlan, planFeatures } from '../features';
import { newOutboxId, outboxWrite } from '../outbox';
import { emailTaken } from './agencies';
import { accountClosed } from './errors';
import type { CreateSubAccountBody, ListQuery, PatchSubAccountBody } from './schemas';
import { subAccountView } from './views';

/**
 * Creates the sub-account, its client user and the credentials email in one transaction.
 * The generated password is returned once and travels to the notifier sealed in the outbox
 * item, which the notifier deletes after sending: it never rests in the table in clear.
 */
export async function createSubAccount(agency: AccountItem, body: CreateSubAccountBody) {
  const now = clockNow();
  const iso = now.toISOString();
  const id = newId('subAccount');
  const email = body.email.toLowerCase();
  const password = generatePassword();
  const outboxId = newOutboxId();
  const [passwordHash, sealedPassword] = await Promise.all([hashPassword(password), seal(password, outboxId)]);

  const account: AccountItem = {
    kind: itemKinds.account,
    id,
    type: 'sub_account',
    agencyId: agency.id,
    name: body.name,
    email,
    phone: body.phone,
    timezone: body.timezone,
    website: body.website,
    address: body.address,
    features: [...planFeatures[agency.plan ?? 'starter']],
    featuresEpoch: agency.planEpoch ?? 0,
    status: 'active',
    creditMode: 'manual',
    meterMonth: iso.slice(0, 7),
    meterUsed: 0,
    meterPoolUsed: 0,
    createdAt: iso,
    updatedAt: iso,
  };
  const user: UserItem = {
    kind: itemKinds.user,
    id: newId('user'),
    email,
    name: body.name,
    passwordHash,
    accountId: id,
    accountType: 'sub_account',
    agencyId: agency.id,
    createdAt: iso,
  };
  await transact([
    { name: 'subAccount', write: putAccount(account) },
    ...putUser(user, emailTaken),
    outboxWrite(
      outboxId,
      {
        type: 'sub_account.credentials',
        subAccountId: id,
        agencyId: agency.id,
        agencyName: agency.name,
        clientName: body.name,
        to: email,
        sealedPassword,
      },
      now,
    ),
  ]);
  return { subAccount: subAccountView(account, agency), password, loginEmail: email };
}

export async function listSubAccounts(agency: AccountItem, query: ListQuery) {
  const page = await listSubAccountItems(agency.id, query);
  return { items: page.items.map((a) => subAccountView(a, agency)), nextCursor: page.nextCursor };
}

/**
 * `agency` is the caller's agency as read for this request. A new allocation records the plan
 * epoch it was checked against, so a downgrade racing this write still takes what it removes.
 */
export async function patchSubAccount(sub: AccountItem, agency: AccountItem, body: PatchSubAccountBody) {
  const plan = agency.plan ?? 'starter';
  // Reselling is an Agency-plan feature gated behind white-labeling (the product spec).
  const wanted = [...(body.features ?? []), ...(body.creditMode === 'reselling' ? (['reselling', 'white_label'] as const) : [])];
  const beyond = featuresBeyondPlan(plan, wanted);
  if (beyond.length) {
    const field = body.features && featuresBeyondPlan(plan, body.features).length ? 'features' : 'creditMode';
    throw new AppError('feature_not_available', `${field}: ${beyond.join(', ')} not in the ${plan} plan`, [
      { field, message: `not in the plan: ${beyond.join(', ')}` },
    ]);
  }
  const updated = await updateActiveAccount(sub.id, {
    set: {
      name: body.name,
      features: body.features && [...new Set(body.features)],
      featuresEpoch: body.features && (agency.planEpoch ?? 0),
      creditMode: body.creditMode,
    },
    monthlyCreditLimit: body.monthlyCreditLimit,
    at: clockNow().toISOString(),
  });
  if (!updated) throw accountClosed();
  return { subAccount: subAccountView(updated, agency) };
}

/** Closing is idempotent; the account, its users and its ledger history stay, logins stop. */
export async function closeSubAccount(sub: AccountItem): Promise<void> {
  if (sub.status === 'closed') return;
  await closeAccount(sub.id, clockNow().toISOString());
}
