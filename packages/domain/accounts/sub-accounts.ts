import { now as clockNow, utcMonth } from '#core/clock';
import { optionalEnv } from '#core/env';
import { AppError } from '#core/errors';
import { newId } from '#core/ids';
import {
  type AgencyItem,
  checkWithinQuota,
  closeAccount,
  countSubAccount,
  getAccount,
  listSubAccounts as listSubAccountItems,
  putAccount,
  reopenAccount,
  type SubAccountItem,
  standingOf,
  updateActiveAccount,
} from '#db/items/account';
import type { AuditChange } from '#db/items/audit-record';
import { walletKey } from '#db/items/balance';
import { getMeter, meterCopiedFrom, meterLimitWrite } from '#db/items/meter';
import { getResellingSettings } from '#db/items/reselling-settings';
import { monthPoolUsed } from '#db/items/usage-rollup';
import { findEmail, getUser, withdrawPassword } from '#db/items/user';
import { itemKinds } from '#db/schema';
import { transact } from '#db/transact';
import { audited, changesOf } from '../audit/record';
import { featuresBeyondPlan, planFeatures } from '../features';
import { exactBalance } from '../ledger/balances';
import { closeWhatItAllowed, closeWhatOthersAllowed } from '../ledger/standing';
import { openRechargeRequest } from '../recharge/open';
import { newClientLogin } from './client-login';
import { emailNotVerified } from './email-verification';
import { accountClosed } from './errors';
import type { CreateSubAccountBody, ListQuery, PatchSubAccountBody } from './schemas';
import { subAccountView, subAccountViewOf, subAccountViews } from './views';

/**
 * Creates the sub-account and, with a client login (the default), its client user and the
 * credentials email, in one transaction that also counts the sub-account against the agency's
 * quota and requires its verified email. The generated password is returned once and travels
 * to the notifier sealed in the outbox item, which the notifier deletes after sending: it never
 * rests in the table in clear.
 */
export async function createSubAccount(agency: AgencyItem, body: CreateSubAccountBody) {
  if (!agency.emailVerified) throw emailNotVerified();
  const now = clockNow();
  const iso = now.toISOString();
  const id = newId('subAccount');
  const email = body.email.toLowerCase();
  const clientLogin = body.clientLogin ?? true;

  const account: SubAccountItem = {
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
    clientLogin,
    createdAt: iso,
    updatedAt: iso,
  };
  const quota = subAccountQuota();
  const count = countSubAccount(agency.id, quota, (old) =>
    old?.type === 'agency' && old.emailVerified
      ? new AppError('quota_exceeded', `An agency may create at most ${quota} sub-accounts`)
      : emailNotVerified(),
  );
  const audit = audited(
    subAccountEntry(account, 'sub_account.created', changesOf(undefined, account, [...createdFields, ...auditedFields])),
  );
  if (!clientLogin) {
    await transact([{ name: 'subAccount', write: putAccount(account) }, count, audit]);
    return { subAccount: subAccountView(account, agency, 0) };
  }
  const login = await newClientLogin(account, agency, { create: true }, now);
  await transact([{ name: 'subAccount', write: putAccount(account) }, count, ...login.writes, audit]);
  return { subAccount: subAccountView(account, agency, 0), password: login.password, loginEmail: email };
}

const createdFields = ['email', 'phone', 'timezone', 'website', 'address', 'clientLogin', 'status'] as const;

/** The cap on sub-accounts per agency (configuration, SUB_ACCOUNT_QUOTA; default 1,000). */
function subAccountQuota(): number {
  const configured = Number(optionalEnv('SUB_ACCOUNT_QUOTA') ?? 1000);
  return Number.isSafeInteger(configured) && configured >= 0 ? configured : 1000;
}

export async function listSubAccounts(agency: AgencyItem, query: ListQuery) {
  const page = await listSubAccountItems(agency.id, query);
  return { items: await subAccountViews(page.items, agency), nextCursor: page.nextCursor };
}

/**
 * `agency` is the caller's agency as read for this request. A new allocation records the plan
 * epoch it was checked against, so a downgrade racing this write still takes what it removes.
 */
export async function patchSubAccount(sub: SubAccountItem, agency: AgencyItem, body: PatchSubAccountBody) {
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
  if (body.autoRecharge && (body.creditMode ?? sub.creditMode ?? 'manual') !== 'reselling') throw autoRechargeNeedsReselling();
  const now = clockNow();
  // A change of what its debits draw on must know exactly what it changes from (standing.ts).
  const moves = body.creditMode !== undefined || body.monthlyCreditLimit !== undefined;
  let before = sub;
  // A limit changed on a meter still kept on the account item (before meters had items) starts
  // from that meter, copied first: the month's use so far stays counted.
  if (body.monthlyCreditLimit !== undefined && standingOf(sub).hasLimit && !(await getMeter(sub.id))) await meterCopiedFrom(sub);
  let outcome: Awaited<ReturnType<typeof updateActiveAccount>>;
  let updated: SubAccountItem = sub;
  for (let round = 0; ; round++) {
    // A first limit counts the month's pool use so far, as the usage rollups hold it (they lag
    // the ledger by the stream's delay, seconds: use in those seconds is not counted).
    const firstLimit = typeof body.monthlyCreditLimit === 'number' && !standingOf(before).hasLimit;
    const month = utcMonth(now);
    const set = {
      name: body.name,
      features: body.features && [...new Set(body.features)],
      featuresEpoch: body.features && (agency.planEpoch ?? 0),
      creditMode: body.creditMode,
      autoRecharge: body.autoRecharge,
    };
    const at = now.toISOString();
    updated = withChanges(before, set, body.monthlyCreditLimit, at);
    const changes = changesOf(before, updated, auditedFields);
    outcome = await updateActiveAccount(
      before,
      {
        set,
        // Auto-recharge is a reselling setting: a mode switch racing this write must not slip past.
        requireMode: body.autoRecharge && !body.creditMode ? 'reselling' : undefined,
        agencyId: sub.agencyId,
        monthlyCreditLimit: body.monthlyCreditLimit,
        standing: moves ? standingOf(before) : undefined,
        at,
      },
      [
        ...(changes.length ? [audited(subAccountEntry(sub, 'sub_account.updated', changes))] : []),
        // The limit's meter, in the same transaction: a first limit starts from the month's pool use so far.
        ...(body.monthlyCreditLimit !== undefined
          ? [
              {
                name: 'meter',
                write: meterLimitWrite(
                  sub,
                  body.monthlyCreditLimit,
                  at,
                  firstLimit ? { month, poolUsed: await monthPoolUsed(sub.agencyId, sub.id, month) } : undefined,
                ),
              },
            ]
          : []),
      ],
    );
    if (!outcome || !('stale' in outcome) || round >= 4) break;
    const again = await getAccount(sub.id);
    if (again?.type === 'sub_account') before = again;
  }
  if (!outcome) throw accountClosed();
  // Five rounds of others' writes in between: a busy item, not the caller's mistake (nothing was changed).
  if ('stale' in outcome)
    throw new AppError('try_again', 'The sub-account kept changing meanwhile; retry', undefined, { retryAfterSeconds: 1 });
  if ('wrongMode' in outcome) throw autoRechargeNeedsReselling();
  if (moves) {
    const same =
      standingOf(before).creditMode === standingOf(updated).creditMode &&
      before.monthlyCreditLimit === updated.monthlyCreditLimit;
    await (same ? closeWhatOthersAllowed(updated) : closeWhatItAllowed(before, updated));
  }
  if (body.autoRecharge?.enabled) await openIfBelow(updated, agency, now);
  return { subAccount: await subAccountViewOf(updated, agency) };
}

/** What an agency may change of a sub-account, as the audit log shows it. */
const auditedFields = ['name', 'features', 'creditMode', 'monthlyCreditLimit', 'autoRecharge'] as const;

const subAccountEntry = (sub: SubAccountItem, action: string, changes: AuditChange[] = []) => ({
  agencyId: sub.agencyId,
  action,
  target: { type: 'sub_account', id: sub.id },
  changes,
});

/** The account as the update leaves it (the fields it sets; the meter is DynamoDB's and not shown). */
function withChanges(
  before: SubAccountItem,
  set: Partial<SubAccountItem>,
  monthlyCreditLimit: number | null | undefined,
  at: string,
): SubAccountItem {
  const defined = Object.fromEntries(Object.entries(set).filter(([, v]) => v !== undefined));
  const limit = monthlyCreditLimit === undefined ? before.monthlyCreditLimit : (monthlyCreditLimit ?? undefined);
  return { ...before, ...defined, monthlyCreditLimit: limit, updatedAt: at };
}

const autoRechargeNeedsReselling = () =>
  new AppError('wrong_credit_mode', 'autoRecharge needs the sub-account in reselling mode; set creditMode to reselling first');

/** Enabling auto-recharge on a wallet already below its threshold opens a request at once (API.md, Auto-recharge). */
async function openIfBelow(sub: SubAccountItem, agency: AgencyItem, at: Date): Promise<void> {
  const [wallet, settings] = await Promise.all([exactBalance(walletKey(sub.id)), getResellingSettings(sub.agencyId)]);
  await openRechargeRequest({ sub, agency, settings, balance: wallet.balance, at });
}

/** Closing is idempotent; the account, its users and its ledger history stay, logins stop. */
export async function closeSubAccount(sub: SubAccountItem): Promise<void> {
  if (sub.status === 'active') {
    const at = clockNow().toISOString();
    const change = [{ field: 'status', before: 'active', after: 'closed' }];
    await closeAccount(sub.id, at, [audited(subAccountEntry(sub, 'sub_account.closed', change))]);
  }
  // What it drew on as it closed: its standing as this write (or an earlier close) left it, which
  // no write changes once closed. Again when it was closed already: a close that failed before
  // this ran is retried this way.
  const again = await getAccount(sub.id);
  const closed = again?.type === 'sub_account' ? again : sub;
  await closeWhatItAllowed({ ...closed, status: 'active' }, closed);
}

/**
 * A closed sub-account active again, within the quota (closed ones stay counted, so this fails
 * only when the quota was lowered since). Its ledger history was never touched. Its client's
 * password is withdrawn in the same transaction (and every earlier session ends): the client
 * logs in again only with credentials issued after this (`issueClientCredentials`).
 */
export async function reopenSubAccount(sub: SubAccountItem, agency: AgencyItem) {
  const notClosed = () => new AppError('conflict', 'The sub-account is not closed');
  if (sub.status !== 'closed') throw notClosed();
  const quota = subAccountQuota();
  const guard = sub.email ? await findEmail(sub.email) : undefined;
  const client = guard && (await getUser(guard.userId));
  const at = clockNow().toISOString();
  await transact([
    reopenAccount(sub.id, at, notClosed),
    checkWithinQuota(agency.id, quota, () => new AppError('quota_exceeded', `An agency may have at most ${quota} sub-accounts`)),
    ...(client?.accountId === sub.id ? [withdrawPassword(client.id, at)] : []),
    audited(
      subAccountEntry(sub, 'sub_account.reopened', [
        { field: 'status', before: 'closed', after: 'active' },
        ...((sub.clientLogin ?? true) ? [{ field: 'clientLogin', before: true, after: false }] : []),
      ]),
    ),
  ]);
  const reopened: SubAccountItem = { ...sub, status: 'active', clientLogin: false, updatedAt: at, closedAt: undefined };
  return { subAccount: await subAccountViewOf(reopened, agency) };
}
