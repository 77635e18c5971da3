import { nowIso } from '#core/clock';
import { AppError, notFound } from '#core/errors';
import { newId } from '#core/ids';
import { type AccountItem, accountKey, accountShape, checkCanHoldCampaigns } from '#db/items/account';
import { type CampaignItem, putNewCampaign } from '#db/items/campaign';
import { foundItem, getItems } from '#db/read';
import { itemKinds } from '#db/schema';
import { committedOrStale, unhandled } from '#db/transact';
import { audited } from '../audit/record';
import { actorOf, canReach, type Principal } from '../auth/principal';
import { assertWritable, campaignEntry, findCampaign } from './campaigns';
import { campaignView } from './content';
import type { CopyCampaignBody } from './schemas';

const FEATURE = 'campaigns' as const;

/**
 * Copies a campaign into one or more accounts of the same agency, all or none: one BatchGet
 * reads the targets, one TransactWriteItems writes every copy together with a check on each
 * target account, so a target closed or stripped of the feature meanwhile fails the lot.
 * Errors come in a fixed order over ALL targets: 404 (unreachable) before 409 (closed)
 * before 403 (feature), so nothing about a foreign account is ever told apart.
 */
export async function copyCampaign(principal: Principal, source: AccountItem, campaignId: string, body: CopyCampaignBody) {
  const targetIds = body.targetAccountIds ?? (body.targetAccountId ? [body.targetAccountId] : []);
  const original = await findCampaign(source.id, campaignId);
  const targets = await readTargets(targetIds);
  const reachable = targets.map((target, i) => {
    if (!target || !canCopyTo(principal, source, target)) throw notFound(`Account ${targetIds[i]}`);
    return target;
  });
  assertUsable(reachable);

  const now = nowIso();
  const actor = actorOf(principal);
  const copies: CampaignItem[] = reachable.map((target) => ({
    ...original,
    kind: itemKinds.campaign,
    id: newId('campaign'),
    accountId: target.id,
    agencyId: target.agencyId,
    // The content is immutable strings (JSON text for the objects) and fresh FAQ objects: a deep copy.
    faqs: original.faqs.map(({ question, answer }) => ({ question, answer })),
    copiedFrom: { campaignId: original.id, accountId: source.id },
    createdBy: actor,
    updatedBy: actor,
    createdAt: now,
    updatedAt: now,
    version: 1,
  }));
  // Each copy is a campaign created, recorded as such with where it came from: 25 copies, 25
  // checks and 25 records stay within a transaction's 100 items.
  const items = [
    ...copies.map((c, i) => ({ name: `copy${i}`, write: putNewCampaign(c) })),
    ...copies.map((c) =>
      audited(
        campaignEntry(c, 'campaign.copied', [
          { field: 'name', before: null, after: c.name },
          { field: 'copiedFrom', before: null, after: c.copiedFrom },
        ]),
      ),
    ),
    ...reachable.map((t, i) => ({ name: `target${i}`, write: checkCanHoldCampaigns(t.id, source.agencyId) })),
  ];
  const result = await committedOrStale(items);
  switch (result.kind) {
    case 'committed': {
      const views = copies.map(campaignView);
      const [single] = views;
      return body.targetAccountIds || !single ? { campaigns: views } : { campaign: single };
    }
    case 'stale':
      // A target changed between the read and the write: answer what it is now.
      assertUsable((await readTargets(targetIds)).filter((t): t is AccountItem => !!t));
      throw new AppError('conflict', 'A target account changed during the copy; nothing was copied, retry');
    default:
      return unhandled(result);
  }
}

async function readTargets(ids: string[]): Promise<Array<AccountItem | undefined>> {
  const found = await getItems(ids.map((id) => accountKey(id)));
  return ids.map((id) => foundItem(found, accountKey(id), accountShape));
}

/** An agency may copy to itself or any of its sub-accounts; a sub-account only to itself. */
function canCopyTo(principal: Principal, source: AccountItem, target: AccountItem): boolean {
  return target.agencyId === source.agencyId && canReach(principal, target, 'account');
}

function assertUsable(targets: AccountItem[]): void {
  for (const t of targets) assertWritable(t);
  const lacking = targets.find((t) => !t.features.includes(FEATURE));
  if (lacking) throw new AppError('feature_not_enabled', `The ${FEATURE} feature is not enabled for account ${lacking.id}`);
}
