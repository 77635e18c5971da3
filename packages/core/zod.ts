import { en } from 'zod/locales';
import { config, type core, globalRegistry, type ZodMiniType } from 'zod/mini';

/**
 * The zod every function bundles: `zod/mini`, the same zod 4 core as `zod` without the
 * method-chaining classes (about 60 KB less minified in each bundle). Import it as
 * `import * as z from '../core/zod'`.
 *
 * Classic `zod` installs its English messages on first use; mini installs none, and our 400s
 * carry zod's messages ("Too big: expected string to have <=200 characters"), so English is
 * set here, once, for every importer.
 */
config(en());

export * from 'zod/mini';

/**
 * Classic zod's `.meta(data)` (and `.describe(text)`, which is `{ description: text }`): a copy of
 * `schema` that carries `data` in the global registry, read by the OpenAPI generator. Mini's
 * own `.check(z.meta(data))` would add a check that every parse then runs.
 */
export function withMeta<T extends ZodMiniType>(schema: T, data: core.GlobalMeta): T {
  const copy = schema.clone();
  globalRegistry.add(copy, data);
  return copy;
}
