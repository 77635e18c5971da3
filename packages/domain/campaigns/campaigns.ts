import { nowIso } from '#core/clock';
import { AppError, notFound } from '#core/errors';
import { newId } from '#core/ids';
import type { AccountItem } from '#db/items/account';
import type { AuditChange } from '#db/items/audit-record';
import {
  type CampaignItem,
  deleteCampaignVersion,
  getCampaignItem,
  listCampaignItems,
  putNewCampaign,
  replaceCampaign,
} from '#db/items/campaign';
import { itemKinds } from '#db/schema';
import { transact, transactIf } from '#db/transact';
import { accountClosed } from '../accounts/errors';
import type { ListQuery } from '../accounts/schemas';
import { audited, changesOf } from '../audit/record';
import { actorOf, type Principal } from '../auth/principal';
import { type CampaignContent, campaignView, contentItem, contentOf } from './content';
import type { CreateCampaignBody, PatchCampaignBody } from './schemas';

/** A closed account keeps its campaigns readable (its history stays) but takes no new writes. */
export function assertWritable(account: AccountItem): void {
  if (account.status !== 'active') throw accountClosed(account.id);
}

export async function createCampaign(principal: Principal, account: AccountItem, body: CreateCampaignBody) {
  assertWritable(account);
  const now = nowIso();
  const actor = actorOf(principal);
  const item: CampaignItem = {
    kind: itemKinds.campaign,
    id: newId('campaign'),
    accountId: account.id,
    agencyId: account.agencyId,
    ...contentItem(body),
    createdBy: actor,
    updatedBy: actor,
    createdAt: now,
    updatedAt: now,
    version: 1,
  };
  const audit = audited(campaignEntry(item, 'campaign.created', [{ field: 'name', before: null, after: item.name }]));
  await transact([{ name: 'campaign', write: putNewCampaign(item) }, audit]);
  return { campaign: campaignView(item) };
}

/** The campaign, looked up under the account in scope only: an id from elsewhere is a 404. */
export async function findCampaign(accountId: string, campaignId: string): Promise<CampaignItem> {
  const item = await getCampaignItem(accountId, campaignId);
  if (!item) throw notFound('Campaign');
  return item;
}

export async function getCampaign(account: AccountItem, campaignId: string) {
  return { campaign: campaignView(await findCampaign(account.id, campaignId)) };
}

export async function listCampaigns(account: AccountItem, query: ListQuery) {
  const page = await listCampaignItems(account.id, query);
  return { items: page.items.map(campaignView), nextCursor: page.nextCursor };
}

/** The content fields an audit record names; a value longer than this is recorded by its size alone. */
const CONTENT_FIELDS = ['name', 'settings', 'instructions', 'faqs', 'configuration'] as const;
const AUDITED_VALUE_BYTES = 2048;

/**
 * What a write changed in a campaign's content, before and after. A campaign may be 128 KiB, so
 * a long value (instructions, documents) is recorded by its size: the record says that it
 * changed and how much, and stays a small item.
 */
export function contentChanges(before: CampaignContent | undefined, after: CampaignContent | undefined): AuditChange[] {
  const bounded = (value: unknown) => {
    const bytes = Buffer.byteLength(JSON.stringify(value));
    return bytes > AUDITED_VALUE_BYTES ? { omitted: 'too long to record', bytes } : value;
  };
  return changesOf(before, after ?? {}, CONTENT_FIELDS).map((c) => ({
    field: c.field,
    before: bounded(c.before),
    after: bounded(c.after),
  }));
}

export function campaignEntry(c: Pick<CampaignItem, 'agencyId' | 'id'>, action: string, changes: AuditChange[]) {
  return { agencyId: c.agencyId, action, target: { type: 'campaign', id: c.id }, changes };
}

/**
 * Read, merge, write back guarded by `version`: the merged campaign must pass the size limit,
 * which an UpdateExpression cannot check, and the audit record's "before" is the version
 * replaced. A concurrent write makes us re-read and try again.
 */
export async function patchCampaign(principal: Principal, account: AccountItem, campaignId: string, body: PatchCampaignBody) {
  assertWritable(account);
  for (let attempt = 0; attempt < 3; attempt++) {
    const current = await findCampaign(account.id, campaignId);
    const next: CampaignItem = {
      ...current,
      ...contentItem({ ...contentOf(current), ...body }),
      updatedBy: actorOf(principal),
      updatedAt: nowIso(),
      version: current.version + 1,
    };
    const changes = contentChanges(contentOf(current), contentOf(next));
    const audit = changes.length ? [audited(campaignEntry(next, 'campaign.updated', changes))] : [];
    if (await transactIf('campaign', [{ name: 'campaign', write: replaceCampaign(next, current.version) }, ...audit]))
      return { campaign: campaignView(next) };
  }
  throw new AppError('conflict', 'The campaign kept changing while it was being updated; retry');
}

/** Deletes the campaign as read (its version), with its record; a concurrent change makes us read again. */
export async function deleteCampaign(account: AccountItem, campaignId: string): Promise<void> {
  assertWritable(account);
  for (let attempt = 0; attempt < 3; attempt++) {
    const current = await findCampaign(account.id, campaignId);
    const audit = audited(campaignEntry(current, 'campaign.deleted', [{ field: 'name', before: current.name, after: null }]));
    if (await transactIf('campaign', [{ name: 'campaign', write: deleteCampaignVersion(current) }, audit])) return;
  }
  throw new AppError('conflict', 'The campaign kept changing while it was being deleted; retry');
}
