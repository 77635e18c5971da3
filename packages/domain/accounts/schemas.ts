import * as z from 'zod';
import { features, plans } from '../features';
import { cursor, httpUrl, line, trimmedLine } from '../text-fields';

/** Request and response shapes for identity and sub-accounts; types are inferred, never restated. */
const email = z.email().max(254).meta({ example: 'owner@acme-agency.com' });
const personName = trimmedLine(120);
const password = line(256).min(10, 'must be at least 10 characters');
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

export const verifyEmailBody = z.strictObject({ token: line(128).min(1) });
export type VerifyEmailBody = z.infer<typeof verifyEmailBody>;

export const passwordResetBody = z.strictObject({ email: line(254) });
export type PasswordResetBody = z.infer<typeof passwordResetBody>;

export const passwordResetConfirmBody = z.strictObject({ token: line(128).min(1), newPassword: password });
export type PasswordResetConfirmBody = z.infer<typeof passwordResetConfirmBody>;

export const createApiKeyBody = z.strictObject({ name: trimmedLine(100) });
export type CreateApiKeyBody = z.infer<typeof createApiKeyBody>;

const address = z.strictObject({
  line1: line(200).optional(),
  line2: line(200).optional(),
  city: line(100).optional(),
  region: line(100).optional(),
  postalCode: line(20).optional(),
  country: line(2).length(2).describe('ISO 3166-1 alpha-2').optional(),
});

export const createSubAccountBody = z.strictObject({
  name: trimmedLine(120),
  email,
  phone: z
    .string()
    .regex(/^\+?[0-9 ()-]{5,20}$/, 'must be a phone number')
    .optional(),
  timezone: line(64)
    .refine((tz) => Intl.supportedValuesOf('timeZone').includes(tz) || tz === 'UTC', 'must be an IANA time zone')
    .optional(),
  website: httpUrl(2048).optional(),
  address: address.optional(),
  /** Whether the client gets a login (default true); without one, no user, password or email. */
  clientLogin: z.boolean().optional(),
});
export type CreateSubAccountBody = z.infer<typeof createSubAccountBody>;

export const patchSubAccountBody = z
  .strictObject({
    name: trimmedLine(120).optional(),
    features: z.array(feature).max(features.length).optional(),
    creditMode: z.enum(['manual', 'reselling']).optional(),
    /** Manual mode: credits the sub-account may draw from the pool per UTC month; null removes the limit. */
    monthlyCreditLimit: z.int().min(0).max(1_000_000_000).nullable().optional(),
    /** Reselling mode only: a recharge request opens when the wallet drops below `threshold`, asking for `credits`. */
    autoRecharge: z
      .strictObject({
        enabled: z.boolean(),
        threshold: z.int().min(0).max(1_000_000_000),
        credits: z.int().min(1).max(1_000_000),
      })
      .optional(),
  })
  .refine((b) => Object.keys(b).length > 0, { message: 'at least one field is required' });
export type PatchSubAccountBody = z.infer<typeof patchSubAccountBody>;

/** The platform's say over an agency: its plan (features follow) and whether it is suspended. */
export const agencyPatchBody = z
  .strictObject({
    plan: z.enum(plans).optional(),
    status: z.enum(['active', 'suspended']).optional(),
  })
  .refine((b) => Object.keys(b).length > 0, { message: 'at least one field is required' });
export type AgencyPatchBody = z.infer<typeof agencyPatchBody>;

export const listQuery = z.strictObject({
  limit: z.coerce.number().int().min(1).max(200).default(50),
  cursor: cursor(1024).optional(),
});
export type ListQuery = z.infer<typeof listQuery>;
