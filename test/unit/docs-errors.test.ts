/**
 * A problem's `type` (https://docs.agency-accounts.dev/errors/<code>) resolves: docs/errors.md
 * has one section per error code of packages/core/errors.ts, headed by the code (its anchor is
 * the URL's last segment), with the code's status and title as errors.ts defines them, and no
 * section for a code that no longer exists.
 */
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { AppError, type ErrorCode, errorCodes } from '#core/errors';
import { problemBody } from '#http/response';
import { sections } from '../support/markdown';

const page = sections(readFileSync(resolve(import.meta.dirname, '../../docs/errors.md'), 'utf8'));
const codes = Object.keys(errorCodes) as ErrorCode[];

describe('docs/errors.md', () => {
  it.each(codes)('%s: the problem type names a section with its status and title', (code) => {
    const type = new URL(problemBody(new AppError(code)).type);
    expect(`${type.origin}${type.pathname.replace(/[^/]+$/, '')}`).toBe('https://docs.agency-accounts.dev/errors/');
    const anchor = type.pathname.split('/').at(-1);
    const section = page.find((s) => s.anchor === anchor);
    expect(section, `no "## \`${code}\`" in docs/errors.md`).toBeDefined();
    expect(section?.body).toContain(`Status **${errorCodes[code].status}**, “${errorCodes[code].title}”.`);
    expect(section?.body).toContain('**What to do:**');
  });

  it('has no section for a code errors.ts does not define', () => {
    expect(page.map((s) => s.anchor).filter((a) => !codes.includes(a as ErrorCode))).toEqual([]);
  });
});
