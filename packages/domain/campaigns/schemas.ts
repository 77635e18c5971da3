import * as z from '#core/zod';
import { freeText, line, trimmedLine } from '../text-fields';
import { boundedJsonObject } from './json-limits';

/** Campaign request shapes; the types are inferred from them, never restated. */
export const MAX_FAQS = 100;
export const MAX_COPY_TARGETS = 25;

const name = z.withMeta(trimmedLine(120), { example: 'Spring re-engagement' });
const instructions = z.withMeta(freeText(20_000), { description: 'Instructions for the AI agent' });
const faq = z.strictObject({
  question: trimmedLine(500),
  answer: freeText(5000).check(z.minLength(1)),
});
const faqs = z.array(faq).check(z.maxLength(MAX_FAQS));

export const createCampaignBody = z.strictObject({
  name,
  settings: z._default(boundedJsonObject(), {}),
  instructions: z._default(instructions, ''),
  faqs: z._default(faqs, []),
  configuration: z._default(boundedJsonObject(), {}),
});
export type CreateCampaignBody = z.infer<typeof createCampaignBody>;

/** Each field given replaces the stored one whole (objects are not merged). */
export const patchCampaignBody = z
  .strictObject({
    name: z.optional(name),
    settings: z.optional(boundedJsonObject()),
    instructions: z.optional(instructions),
    faqs: z.optional(faqs),
    configuration: z.optional(boundedJsonObject()),
  })
  .check(z.refine((b) => Object.keys(b).length > 0, { message: 'at least one field is required' }));
export type PatchCampaignBody = z.infer<typeof patchCampaignBody>;

const accountId = line(64).check(z.minLength(1));

/** Exactly one of the two forms; the single form answers `{campaign}`, the list form `{campaigns}`. */
export const copyCampaignBody = z
  .withMeta(
    z.strictObject({
      targetAccountId: z.optional(accountId),
      targetAccountIds: z.optional(
        z.withMeta(z.array(accountId).check(z.minLength(1), z.maxLength(MAX_COPY_TARGETS)), { uniqueItems: true }),
      ),
    }),
    { description: 'Exactly one of targetAccountId (→ {campaign}) or targetAccountIds (→ {campaigns})' },
  )
  .check(
    z.superRefine((b, ctx) => {
      if ((b.targetAccountId === undefined) === (b.targetAccountIds === undefined)) {
        const both = b.targetAccountId !== undefined;
        ctx.addIssue({
          code: 'custom',
          path: [both ? 'targetAccountIds' : 'targetAccountId'],
          message: both ? 'send targetAccountId or targetAccountIds, not both' : 'required (or targetAccountIds)',
        });
      }
      b.targetAccountIds?.forEach((id, i, all) => {
        if (all.indexOf(id) !== i)
          ctx.addIssue({ code: 'custom', path: ['targetAccountIds', i], message: 'duplicate account id' });
      });
    }),
  );
export type CopyCampaignBody = z.infer<typeof copyCampaignBody>;
