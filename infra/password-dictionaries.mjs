// Writes zxcvbn-ts's common dictionaries and keyboard graphs as JSON beside a function's bundle,
// for packages/domain/auth/password-dictionaries.ts (the bundle's stand-in for the package).
// Run by the bundling step of every function (infra/constructs/app-function.ts); writes only
// for bundles that read the file. Usage: node infra/password-dictionaries.mjs <bundle dir>
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { adjacencyGraphs, dictionary } from '@zxcvbn-ts/language-common';

const FILE = 'password-dictionaries.json';
const dir = process.argv[2];
if (!dir) throw new Error('usage: node infra/password-dictionaries.mjs <bundle dir>');
const bundle = join(dir, 'index.mjs');
if (readFileSync(bundle, 'utf8').includes(FILE)) {
  writeFileSync(join(dir, FILE), JSON.stringify({ dictionary, adjacencyGraphs }));
}
