import { nowIso } from '../../core/clock';
import { AppError, notFound } from '../../core/errors';
import { newId } from '../../core/ids';
import type { AccountItem } from '../../db/items/account';
import {
  type CampaignItem,
  deleteCampaignItem,
  getCampaignItem,
  listCampaignItems,
  putNewCampaign,
  replaceCampaign,
} from '../../db/items/campaign';
import { itemKinds } from '../../db/schema';
import { transact } from '../../db/transact';
import { accountClosed } from '../accounts/errors';
import type { ListQuery } from '../accounts/schemas';
import { audited } from '../audit/record';
import { actorOf, type Principal } from '../auth/principal';
import { campaignView, contentItem, contentOf } from './content';
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
  const audit = audited({
    agencyId: account.agencyId,
    action: 'campaign.created',
    target: { type: 'campaign', id: item.id },
    changes: [{ field: 'name', before: null, after: item.name }],
  });
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

/**
 * Read, merge, write back guarded by `version`: the merged campaign must pass the size limit,
 * which an UpdateExpression cannot check. A concurrent write makes us re-read and try again.
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
    if (await replaceCampaign(next, current.version)) return { campaign: campaignView(next) };
  }
  throw new AppError('conflict', 'The campaign kept changing while it was being updated; retry');
}

export async function deleteCampaign(account: AccountItem, campaignId: string): Promise<void> {
  assertWritable(account);
  if (!(await deleteCampaignItem(account.id, campaignId))) throw notFound('Campaign');
}
