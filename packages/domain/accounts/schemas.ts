import * as z from '#core/zod';
import { features, plans } from '../features';
import { cursor, httpUrl, line, trimmedLine } from '../text-fields';

/** Request and response shapes for identity and sub-accounts; types are inferred, never restated. */
/**
 * The addresses the published document's `format: email` admits (Ajv's "full" email format),
 * no more: zod's default pattern also took a domain label ending in a hyphen (`a@a-.co`), which
 * the document refuses. Written without the `i` flag, since JSON Schema patterns have none.
 */
const EMAIL =
  /^[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(?:\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*@(?:[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?\.)+[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?$/;
const email = z.withMeta(z.email({ pattern: EMAIL }).check(z.maxLength(254)), { example: 'owner@acme-agency.com' });
const personName = trimmedLine(120);
const password = line(256).check(z.minLength(10, 'must be at least 10 characters'));
const feature = z.enum(features);

/** No `plan`: every agency starts on starter; plans are the platform's to set (admin PATCH). */
export const signupBody = z.strictObject({
  agencyName: trimmedLine(120),
  name: personName,
  email,
  password,
});
export type SignupBody = z.infer<typeof signupBody>;

export const loginBody = z.strictObject({ email: line(254), password: line(256) });
export type LoginBody = z.infer<typeof loginBody>;

export const changePasswordBody = z.strictObject({ currentPassword: line(256), newPassword: password });
export type ChangePasswordBody = z.infer<typeof changePasswordBody>;

export const verifyEmailBody = z.strictObject({ token: line(128).check(z.minLength(1)) });
export type VerifyEmailBody = z.infer<typeof verifyEmailBody>;

export const passwordResetBody = z.strictObject({ email: line(254) });
export type PasswordResetBody = z.infer<typeof passwordResetBody>;

export const passwordResetConfirmBody = z.strictObject({ token: line(128).check(z.minLength(1)), newPassword: password });
export type PasswordResetConfirmBody = z.infer<typeof passwordResetConfirmBody>;

export const createApiKeyBody = z.strictObject({ name: trimmedLine(100) });
export type CreateApiKeyBody = z.infer<typeof createApiKeyBody>;

const address = z.strictObject({
  line1: z.optional(line(200)),
  line2: z.optional(line(200)),
  city: z.optional(line(100)),
  region: z.optional(line(100)),
  postalCode: z.optional(line(20)),
  country: z.optional(z.withMeta(line(2).check(z.length(2)), { description: 'ISO 3166-1 alpha-2' })),
});

export const createSubAccountBody = z.strictObject({
  name: trimmedLine(120),
  email,
  phone: z.optional(z.string().check(z.regex(/^\+?[0-9 ()-]{5,20}$/, 'must be a phone number'))),
  timezone: z.optional(
    line(64).check(
      z.refine((tz) => Intl.supportedValuesOf('timeZone').includes(tz) || tz === 'UTC', 'must be an IANA time zone'),
    ),
  ),
  website: z.optional(httpUrl(2048)),
  address: z.optional(address),
  /** Whether the client gets a login (default true); without one, no user, password or email. */
  clientLogin: z.optional(z.boolean()),
});
export type CreateSubAccountBody = z.infer<typeof createSubAccountBody>;

export const patchSubAccountBody = z
  .strictObject({
    name: z.optional(trimmedLine(120)),
    features: z.optional(z.array(feature).check(z.maxLength(features.length))),
    creditMode: z.optional(z.enum(['manual', 'reselling'])),
    /** Manual mode: credits the sub-account may draw from the pool per UTC month; null removes the limit. */
    monthlyCreditLimit: z.optional(z.nullable(z.int().check(z.minimum(0), z.maximum(1_000_000_000)))),
    /** Reselling mode only: a recharge request opens when the wallet drops below `threshold`, asking for `credits`. */
    autoRecharge: z.optional(
      z.strictObject({
        enabled: z.boolean(),
        threshold: z.int().check(z.minimum(0), z.maximum(1_000_000_000)),
        credits: z.int().check(z.minimum(1), z.maximum(1_000_000)),
      }),
    ),
  })
  .check(z.refine((b) => Object.keys(b).length > 0, { message: 'at least one field is required' }));
export type PatchSubAccountBody = z.infer<typeof patchSubAccountBody>;

/** The platform's say over an agency: its plan (features follow) and whether it is suspended. */
export const agencyPatchBody = z
  .strictObject({
    plan: z.optional(z.enum(plans)),
    status: z.optional(z.enum(['active', 'suspended'])),
  })
  .check(z.refine((b) => Object.keys(b).length > 0, { message: 'at least one field is required' }));
export type AgencyPatchBody = z.infer<typeof agencyPatchBody>;

export const listQuery = z.strictObject({
  limit: z._default(z.coerce.number().check(z.int(), z.minimum(1), z.maximum(200)), 50),
  cursor: z.optional(cursor(1024)),
});
export type ListQuery = z.infer<typeof listQuery>;
