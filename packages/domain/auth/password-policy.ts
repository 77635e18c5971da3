import { ZxcvbnFactory } from '@zxcvbn-ts/core';
import { invalidField } from '#core/errors';

/**
 * A new password (sign-up, change, reset) must not be one an attacker tries first. The length
 * floor (10) is in the request schema; this is the rest: zxcvbn-ts with its common-passwords
 * and diceware lists, plus the person's own email, name and agency name. Refused when zxcvbn
 * estimates it falls within an attacker's first million guesses (score 0 or 1): the common
 * passwords, their l33t and reversed forms, keyboard walks, sequences, repeats, and those
 * words with a year or `123` stuck on.
 *
 * The dictionaries (about 580 KB of words) are imported on first use, never at cold start, so
 * login and the other routes do not pay for them. Deployed, they are not in the bundle at all:
 * esbuild swaps the package for `password-dictionaries.ts`, which reads them from a JSON file
 * written beside the bundle from the same package (infra/constructs/app-function.ts). Only the
 * first 64 characters are analysed: zxcvbn's matching grows faster than linearly with the
 * length, and no common password is that long.
 */
let checker: Promise<ZxcvbnFactory> | undefined;
const MIN_SCORE = 2;

function loadChecker(): Promise<ZxcvbnFactory> {
  checker ??= import('@zxcvbn-ts/language-common').then(
    (common) => new ZxcvbnFactory({ dictionary: common.dictionary, graphs: common.adjacencyGraphs, maxLength: 64 }),
  );
  checker.catch(() => {
    checker = undefined;
  });
  return checker;
}

export async function checkNewPassword(password: string, field: string, personal: (string | undefined)[] = []): Promise<void> {
  const zxcvbn = await loadChecker();
  const inputs = personal.flatMap((s) => (s ? [s, ...s.toLowerCase().split(/[^a-z0-9]+/)] : [])).filter((s) => s.length >= 3);
  if (zxcvbn.check(password, inputs).score < MIN_SCORE) {
    throw invalidField(field, 'too common or too easy to guess; choose a longer, less predictable password');
  }
}
