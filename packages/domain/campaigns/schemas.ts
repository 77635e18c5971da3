import * as z from 'zod';
import { freeText, line, trimmedLine } from '../text-fields';
import { boundedJsonObject } from './json-limits';

/** Campaign request shapes; the types are inferred from them, never restated. */
export const MAX_FAQS = 100;
export const MAX_COPY_TARGETS = 25;

const name = trimmedLine(120).meta({ example: 'Spring re-engagement' });
const instructions = freeText(20_000).describe('Instructions for the AI agent');
const faq = z.strictObject({
  question: trimmedLine(500),
  answer: freeText(5000).min(1),
});
const faqs = z.array(faq).max(MAX_FAQS);

export const createCampaignBody = z.strictObject({
  name,
  settings: boundedJsonObject().default({}),
  instructions: instructions.default(''),
  faqs: faqs.default([]),
  configuration: boundedJsonObject().default({}),
});
export type CreateCampaignBody = z.infer<typeof createCampaignBody>;

/** Each field given replaces the stored one whole (objects are not merged). */
export const patchCampaignBody = z
  .strictObject({
    name: name.optional(),
    settings: boundedJsonObject().optional(),
    instructions: instructions.optional(),
    faqs: faqs.optional(),
    configuration: boundedJsonObject().optional(),
  })
  .refine((b) => Object.keys(b).length > 0, { message: 'at least one field is required' });
export type PatchCampaignBody = z.infer<typeof patchCampaignBody>;

const accountId = line(64).min(1);

/** Exactly one of the two forms; the single form answers `{campaign}`, the list form `{campaigns}`. */
export const copyCampaignBody = z
  .strictObject({
    targetAccountId: accountId.optional(),
    targetAccountIds: z.array(accountId).min(1).max(MAX_COPY_TARGETS).meta({ uniqueItems: true }).optional(),
  })
  .meta({ description: 'Exactly one of targetAccountId (→ {campaign}) or targetAccountIds (→ {campaigns})' })
  .superRefine((b, ctx) => {
    if ((b.targetAccountId === undefined) === (b.targetAccountIds === undefined)) {
      const both = b.targetAccountId !== undefined;
      ctx.addIssue({
        code: 'custom',
        path: [both ? 'targetAccountIds' : 'targetAccountId'],
        message: both ? 'send targetAccountId or targetAccountIds, not both' : 'required (or targetAccountIds)',
      });
    }
    b.targetAccountIds?.forEach((id, i, all) => {
      if (all.indexOf(id) !== i) ctx.addIssue({ code: 'custom', path: ['targetAccountIds', i], message: 'duplicate account id' });
    });
  });
export type CopyCampaignBody = z.infer<typeof copyCampaignBody>;
