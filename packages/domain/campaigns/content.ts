import { AppError } from '#core/errors';
import type { CampaignItem, Faq } from '#db/items/campaign';

export type { Faq };

/** The content a copy carries over: everything but identity, provenance and timestamps. */
export interface CampaignContent {
  name: string;
  settings: Record<string, unknown>;
  instructions: string;
  faqs: Faq[];
  configuration: Record<string, unknown>;
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
    copiedFrom: c.copiedFrom ?? null,
    createdBy: c.createdBy,
    updatedBy: c.updatedBy,
    createdAt: c.createdAt,
    updatedAt: c.updatedAt,
  };
}
export type CampaignView = ReturnType<typeof campaignView>;
