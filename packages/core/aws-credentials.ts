/**
 * Bundled in place of `@aws-sdk/credential-provider-node` (infra/constructs/app-function.ts):
 * Lambda always hands a function its role's credentials in the environment, so the SDK's
 * whole provider chain (SSO, INI files, web identity, IMDS…, about 135 KB minified) would only
 * ever reach its first link. The local runtime, which runs the source, keeps the full chain.
 */
import { fromEnv } from '@aws-sdk/credential-provider-env';

export const defaultProvider = (init?: Parameters<typeof fromEnv>[0]) => fromEnv(init);
