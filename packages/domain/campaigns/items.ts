import { AppError } from '../../core/errors';
import type { itemKinds } from '../../db/schema';
import type { Actor } from '../auth/principal';

export type { Actor };
export interface Faq {
  question: string;
  answer: string;
}

/** The content a copy carries over: everything but identity, provenance and timestamps. */
export interface CampaignContent {
  name: string;
  settings: Record<string, unknown>;
  instructions: string;
  faqs: Faq[];
  configuration: Record<string, unknown>;
}

/**
 * A campaign as stored. `settings` and `configuration` are kept as JSON text: they are the
 * client's opaque documents, and DynamoDB maps would reorder their keys, refuse numbers past
 * 1e125 and bill every nested key as item overhead. `version` guards read-modify-write.
 */
export interface CampaignItem {
  kind: typeof itemKinds.campaign;
  id: string;
  accountId: string;
  agencyId: string;
  name: string;
  settingsJson: string;
  instructions: string;
  faqs: Faq[];
  configurationJson: string;
  copiedFrom?: { campaignId: string; accountId: string };
  createdBy: Actor;
  updatedBy: Actor;
  createdAt: string;
  updatedAt: string;
  version: number;
}

/**
 * A whole campaign is at most 128 KiB, so that it stays far below DynamoDB's 400 KB item and
 * 25 copies fit one 4 MB TransactWriteItems. The per-field limits alone would allow ~600 KB.
 */
export const MAX_CAMPAIGN_BYTES = 128 * 1024;

export function contentItem(
  c: CampaignContent,
): Pick<CampaignItem, 'name' | 'settingsJson' | 'instructions' | 'faqs' | 'configurationJson'> {
  const item = {
    name: c.name,
    settingsJson: JSON.stringify(c.settings),
    instructions: c.instructions,
    faqs: c.faqs.map(({ question, answer }) => ({ question, answer })),
    configurationJson: JSON.stringify(c.configuration),
  };
  const bytes = Buffer.byteLength(JSON.stringify(item));
  if (bytes > MAX_CAMPAIGN_BYTES) {
    throw new AppError(
      'invalid_request',
      `body: the campaign would be ${bytes} bytes; at most ${MAX_CAMPAIGN_BYTES} are allowed`,
      [{ field: 'body', message: `campaign larger than ${MAX_CAMPAIGN_BYTES / 1024} KiB` }],
    );
  }
  return item;
}

export function contentOf(c: CampaignItem): CampaignContent {
  return {
    name: c.name,
    settings: JSON.parse(c.settingsJson) as Record<string, unknown>,
    instructions: c.instructions,
    faqs: c.faqs,
    configuration: JSON.parse(c.configurationJson) as Record<string, unknown>,
  };
}

/** What the API shows of a campaign: never keys or the version counter. */
export function campaignView(c: CampaignItem) {
  return {
    id: c.id,
    accountId: c.accountId,
    ...contentOf(c),
    ...(c.copiedFrom ? { copiedFrom: c.copiedFrom } : {}),
    createdBy: c.createdBy,
    updatedBy: c.updatedBy,
    createdAt: c.createdAt,
    updatedAt: c.updatedAt,
  };
}
export type CampaignView = ReturnType<typeof campaignView>;
