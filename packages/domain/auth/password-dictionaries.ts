import { readFileSync } from 'node:fs';
import type * as common from '@zxcvbn-ts/language-common';

/**
 * What deployed functions import in place of `@zxcvbn-ts/language-common` (an esbuild alias,
 * infra/constructs/app-function.ts): the same dictionaries and keyboard graphs, read from the
 * JSON file the bundling step writes beside `index.mjs` from that package
 * (infra/password-dictionaries.mjs). As data they cost a file read and a JSON.parse on the
 * first password check, instead of 418 KB of JavaScript in the bundle. Never imported by
 * source runs, which use the package itself.
 */
const file = new URL('./password-dictionaries.json', import.meta.url);
const data = JSON.parse(readFileSync(file, 'utf8')) as {
  dictionary: typeof common.dictionary;
  adjacencyGraphs: typeof common.adjacencyGraphs;
};

export const dictionary = data.dictionary;
export const adjacencyGraphs = data.adjacencyGraphs;
