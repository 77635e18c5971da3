/**
 * Just enough Markdown for the docs tests: the headings a page has (as GitHub's anchors) and
 * the relative links and images it holds. Code blocks and code spans are not Markdown, so
 * neither a `# comment` in a shell block nor a `[a](b)` in backticks counts.
 */

/** The text outside fenced code blocks, line by line (fenced lines become empty, so numbers hold). */
function proseLines(markdown: string): string[] {
  let fence: string | undefined;
  return markdown.split('\n').map((line) => {
    const marker = /^\s*(```|~~~)/.exec(line)?.[1];
    if (marker && (fence === undefined || marker === fence)) {
      fence = fence === undefined ? marker : undefined;
      return '';
    }
    return fence === undefined ? line : '';
  });
}

/**
 * GitHub's anchor for a heading (github-slugger): the rendered text lower-cased, everything but
 * letters, marks, digits, connector punctuation (`_`), spaces and hyphens dropped, spaces to
 * hyphens. Inline markup is not text: links keep their words, code spans and emphasis lose
 * their marks.
 */
export function githubSlug(heading: string): string {
  const text = heading
    .replace(/!?\[([^\]]*)\]\([^)]*\)/g, '$1')
    .replace(/`/g, '')
    .replace(/(\*\*|\*)/g, '');
  return text
    .toLowerCase()
    .replace(/[^\p{L}\p{M}\p{N}\p{Pc} -]/gu, '')
    .replace(/ /g, '-');
}

/** Every heading's anchor, in order; a repeated one gets `-1`, `-2` as GitHub does. */
export function anchors(markdown: string): string[] {
  const seen = new Map<string, number>();
  const out: string[] = [];
  for (const line of proseLines(markdown)) {
    const heading = /^#{1,6}\s+(.*?)\s*#*\s*$/.exec(line)?.[1];
    if (heading === undefined) continue;
    const slug = githubSlug(heading);
    const times = seen.get(slug) ?? 0;
    seen.set(slug, times + 1);
    out.push(times === 0 ? slug : `${slug}-${times}`);
  }
  return out;
}

export interface Link {
  line: number;
  image: boolean;
  target: string;
}

/** Links and images whose target is in this repository (no scheme, not protocol-relative). */
export function relativeLinks(markdown: string): Link[] {
  const links: Link[] = [];
  proseLines(markdown).forEach((line, i) => {
    const prose = line.replace(/`[^`]*`/g, '');
    for (const m of prose.matchAll(/(!?)\[[^\]]*\]\(\s*<?([^)\s>]+)>?(?:\s+"[^"]*")?\s*\)/g)) {
      const target = m[2] ?? '';
      if (!target || /^[a-z][a-z0-9+.-]*:/i.test(target) || target.startsWith('//')) continue;
      links.push({ line: i + 1, image: m[1] === '!', target });
    }
  });
  return links;
}

/** The sections under `##` headings: each heading's anchor and the text up to the next `##`. */
export function sections(markdown: string): { anchor: string; heading: string; body: string }[] {
  const out: { anchor: string; heading: string; body: string }[] = [];
  const prose = proseLines(markdown);
  for (const line of prose) {
    const heading = /^##\s+(.*?)\s*$/.exec(line)?.[1];
    const current = out.at(-1);
    if (heading !== undefined) out.push({ anchor: githubSlug(heading), heading, body: '' });
    else if (current) current.body += `${line}\n`;
  }
  return out;
}
