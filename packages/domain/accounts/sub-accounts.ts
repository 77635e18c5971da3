import { UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { AppError } from '../../core/errors';
import { newId } from '../../core/ids';
import { seal } from '../../crypto/secret-box';
import { type AccountItem, getAccount, queryIndexPage, type UserItem } from '../../db/accounts';
import { db, table } from '../../db/client';
import { itemKinds, keys } from '../../db/schema';
import { ConditionsFailed, transact } from '../../db/transact';
import { generatePassword, hashPassword } from '../auth/passwords';
import { featuresBeyondPlan, planFeatures } from '../features';
import { newOutboxId, putOutbox } from '../outbox';
import { EMAIL_GUARD_OFFSET, emailTaken, putUserItems } from './agencies';
import { accountClosed } from './errors';
import type { CreateSubAccountBody, ListQuery, PatchSubAccountBody } from './schemas';
import { subAccountView } from './views';

/**
 * Creates the sub-account, its client user and the credentials email in one transaction.
 * The generated password is returned once and travels to the notifier sealed in the outbox
 * item, which the notifier deletes after sending: it never rests in the table in clear.
 */
export async function createSubAccount(agencyId: string, body: CreateSubAccountBody) {
  const agency = await getAccount(agencyId);
  if (agency?.type !== 'agency') throw new AppError('not_found', 'Agency not found');

  const now = new Date();
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
    agencyId,
    name: body.name,
    email,
    phone: body.phone,
    timezone: body.timezone,
    website: body.website,
    address: body.address,
    features: [...planFeatures[agency.plan ?? 'starter']],
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
    agencyId,
    createdAt: iso,
  };
  try {
    await transact([
      {
        Put: {
          TableName: table(),
          Item: { ...keys.account(id), ...keys.subAccountIndex(agencyId, id), ...account },
          ConditionExpression: 'attribute_not_exists(pk)',
        },
      },
      ...putUserItems(user),
      putOutbox(
        outboxId,
        {
          type: 'sub_account.credentials',
          subAccountId: id,
          agencyId,
          agencyName: agency.name,
          clientName: body.name,
          to: email,
          sealedPassword,
        },
        now,
      ),
    ]);
  } catch (err) {
    if (err instanceof ConditionsFailed && err.failed(1 + EMAIL_GUARD_OFFSET)) throw emailTaken();
    throw err;
  }
  return { subAccount: subAccountView(account), password, loginEmail: email };
}

export async function listSubAccounts(agencyId: string, query: ListQuery) {
  const page = await queryIndexPage<AccountItem>(keys.subAccountsOf(agencyId), query);
  return { items: page.items.map(subAccountView), nextCursor: page.nextCursor };
}

export async function patchSubAccount(agency: AccountItem, sub: AccountItem, body: PatchSubAccountBody) {
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
  const set: Record<string, unknown> = { updatedAt: new Date().toISOString() };
  if (body.name !== undefined) set.name = body.name;
  if (body.features !== undefined) set.features = [...new Set(body.features)];
  if (body.creditMode !== undefined) set.creditMode = body.creditMode;
  const names = Object.keys(set);
  const clauses = names.map((n) => `#${n} = :${n}`);
  const values: Record<string, unknown> = Object.fromEntries(names.map((n) => [`:${n}`, set[n]]));
  let remove = '';
  if (typeof body.monthlyCreditLimit === 'number') {
    // remaining = limit − pool credits used, computed by DynamoDB from the meter as it is at this write.
    clauses.push('monthlyCreditLimit = :limit', 'meterRemaining = :limit - if_not_exists(meterPoolUsed, :zero)');
    Object.assign(values, { ':limit': body.monthlyCreditLimit, ':zero': 0 });
  } else if (body.monthlyCreditLimit === null) {
    remove = ' REMOVE monthlyCreditLimit, meterRemaining';
  }
  const out = await db
    .send(
      new UpdateCommand({
        TableName: table(),
        Key: keys.account(sub.id),
        UpdateExpression: `SET ${clauses.join(', ')}${remove}`,
        ConditionExpression: '#status = :active',
        ExpressionAttributeNames: { '#status': 'status', ...Object.fromEntries(names.map((n) => [`#${n}`, n])) },
        ExpressionAttributeValues: { ':active': 'active', ...values },
        ReturnValues: 'ALL_NEW',
      }),
    )
    .catch((err: Error) => {
      if (err.name === 'ConditionalCheckFailedException') throw accountClosed();
      throw err;
    });
  return { subAccount: subAccountView(out.Attributes as AccountItem) };
}

/** Closing is idempotent; the account, its users and its ledger history stay, logins stop. */
export async function closeSubAccount(sub: AccountItem): Promise<void> {
  if (sub.status === 'closed') return;
  const now = new Date().toISOString();
  await db.send(
    new UpdateCommand({
      TableName: table(),
      Key: keys.account(sub.id),
      UpdateExpression: 'SET #status = :closed, closedAt = :now, updatedAt = :now',
      ExpressionAttributeNames: { '#status': 'status' },
      ExpressionAttributeValues: { ':closed': 'closed', ':now': now },
    }),
  );
}
