/**
 * The README and everything under docs/ link only to what exists: every relative link and
 * image names a file of the repository, and a `#fragment` into a Markdown page names one of its
 * headings (GitHub's anchors). A section renamed or a file moved without its links fails here.
 */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { anchors, githubSlug, relativeLinks } from '../support/markdown';

const ROOT = resolve(import.meta.dirname, '../..');

function markdownUnder(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return markdownUnder(path);
    return name.endsWith('.md') ? [path] : [];
  });
}

const pages = [join(ROOT, 'README.md'), ...markdownUnder(join(ROOT, 'docs'))];

/** What is wrong with one link of `page`, or undefined when it resolves. */
function brokenBecause(page: string, target: string): string | undefined {
  const [pathPart, fragment] = target.split('#', 2) as [string, string | undefined];
  const file = pathPart === '' ? page : resolve(dirname(page), decodeURI(pathPart));
  if (relative(ROOT, file).startsWith('..')) return 'outside the repository';
  if (!existsSync(file)) return 'no such file';
  if (fragment === undefined || !file.endsWith('.md')) return undefined;
  return anchors(readFileSync(file, 'utf8')).includes(fragment) ? undefined : `no heading #${fragment}`;
}

describe('docs links', () => {
  it('makes anchors as GitHub does', () => {
    expect(githubSlug("Auto-recharge through the agency's own payment server")).toBe(
      'auto-recharge-through-the-agencys-own-payment-server',
    );
    expect(githubSlug('`insufficient_credits`')).toBe('insufficient_credits');
    expect(githubSlug('Run it')).toBe('run-it');
    expect(githubSlug('[Deploy](operations.md) & **limits**')).toBe('deploy--limits');
    expect(anchors('# A\n```sh\n# not a heading\n```\n## A\n## A\n')).toEqual(['a', 'a-1', 'a-2']);
  });

  it('finds the links it is meant to check', () => {
    const readme = relativeLinks(readFileSync(join(ROOT, 'README.md'), 'utf8'));
    expect(readme.filter((l) => l.target.startsWith('docs/')).length).toBeGreaterThanOrEqual(12);
    const console = relativeLinks(readFileSync(join(ROOT, 'docs/console.md'), 'utf8'));
    expect(console.filter((l) => l.image).length).toBeGreaterThanOrEqual(12);
    expect(relativeLinks('`[a](nowhere.md)` [b](https://example.com) ![c](here.png "t")')).toEqual([
      { line: 1, image: true, target: 'here.png' },
    ]);
  });

  it.each(pages.map((page) => [relative(ROOT, page), page]))('%s: every relative link and image resolves', (_name, page) => {
    const broken = relativeLinks(readFileSync(page, 'utf8'))
      .map((link) => ({ ...link, why: brokenBecause(page, link.target) }))
      .filter((link) => link.why !== undefined)
      .map((link) => `line ${link.line}: ${link.target} (${link.why})`);
    expect(broken).toEqual([]);
  });

  it('links every docs page from the README', () => {
    const linked = new Set(
      relativeLinks(readFileSync(join(ROOT, 'README.md'), 'utf8')).map((l) => resolve(ROOT, l.target.split('#')[0] ?? '')),
    );
    const unlinked = markdownUnder(join(ROOT, 'docs'))
      .filter((page) => !linked.has(page))
      .map((page) => relative(ROOT, page));
    expect(unlinked).toEqual([]);
  });
});
