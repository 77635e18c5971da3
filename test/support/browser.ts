import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import AxeBuilder from '@axe-core/playwright';
import { type Browser, type BrowserContext, chromium, type Locator, type Page } from 'playwright-core';
import { expect } from 'vitest';

/**
 * Debian's Chromium (apt; .ci/run installs it): Playwright never downloads a browser here.
 * Its headless shell first, what Playwright itself runs headless tests in: the same engine
 * without the desktop browser around it, measured at a quarter less CPU and time for the
 * same browser files (`/usr/bin/time` over three files: 74 → 56 CPU-s, 71 → 51 s).
 */
export const CHROMIUM =
  process.env.CHROMIUM_PATH ??
  ['/usr/bin/chromium-headless-shell', '/usr/bin/chromium'].find((path) => existsSync(path)) ??
  '/usr/bin/chromium-headless-shell';

export function launchBrowser(): Promise<Browser> {
  if (!existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} is missing: apt-get install chromium-headless-shell (see .ci/run)`);
  // --no-sandbox: CI runs as root, where Chromium's sandbox cannot start.
  return chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox', '--disable-dev-shm-usage'] });
}

/**
 * A context at the console's origin that fails the test on any page error or console error
 * (a CSP violation is a console error), and lets the page use the clipboard.
 */
export async function consoleContext(
  browser: Browser,
  origin: string,
  errors: string[] = [],
): Promise<{ context: BrowserContext; errors: string[] }> {
  const context = await browser.newContext({ baseURL: origin, viewport: { width: 1100, height: 760 }, acceptDownloads: true });
  // A wait ends as soon as what it waits for holds; in the full suite the stack also serves the
  // other worker's tests, and 10 s was seen too short for one list to refetch (CI, load ~8).
  context.setDefaultTimeout(30_000);
  await context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin });
  context.on('page', (page) => watch(page, errors));
  return { context, errors };
}

function watch(page: Page, errors: string[]) {
  page.on('pageerror', (err) => errors.push(`pageerror: ${err.message}`));
  page.on('console', (msg) => {
    // Chromium logs every refused request (4xx, the injected 503) and the injected network failure as a
    // console error: those are answers the test expects. A CSP violation reads "Refused to …".
    if (
      msg.type() === 'error' &&
      !/Failed to load resource: (the server responded with a status of (4\d\d|503)|net::ERR_CONNECTION_REFUSED)/.test(msg.text())
    )
      errors.push(`console: ${msg.text()}`);
  });
}

/** No serious or critical axe violation on the page as it is now. */
export async function expectAccessible(page: Page, label: string): Promise<void> {
  const result = await new AxeBuilder({ page }).analyze();
  const bad = result.violations
    .filter((v) => v.impact === 'serious' || v.impact === 'critical')
    .map((v) => `${v.id} (${v.impact}): ${v.nodes.map((n) => n.target.join(' ')).join(', ')}`);
  expect(bad, `axe on ${label}`).toEqual([]);
}

/** With CONSOLE_SCREENSHOTS=1, saves the page as docs/console/<name>.png (for the README). */
export async function screenshot(page: Page, name: string): Promise<void> {
  if (!process.env.CONSOLE_SCREENSHOTS) return;
  const dir = join(import.meta.dirname, '../../docs/console');
  mkdirSync(dir, { recursive: true });
  await page.screenshot({ path: join(dir, `${name}.png`), fullPage: false });
}

/** The text of a locator once it is visible. */
export async function textOf(locator: Locator): Promise<string> {
  await locator.first().waitFor({ state: 'visible', timeout: 15_000 });
  // biome-ignore lint/performance/useDomNodeTextContent: Playwright's Locator.innerText (the text a person sees), not the DOM property
  return (await locator.first().innerText()).trim();
}

/** Waits (up to 10 s) for the locator's text to be (or match) `expected`, then asserts it. */
export async function expectText(locator: Locator, expected: string | RegExp): Promise<void> {
  const matches = (t: string) => (typeof expected === 'string' ? t === expected : expected.test(t));
  let text = '';
  const deadline = Date.now() + 10_000;
  do {
    text = await textOf(locator);
    if (matches(text)) return;
    await new Promise((r) => setTimeout(r, 50));
  } while (Date.now() < deadline);
  if (typeof expected === 'string') expect(text).toBe(expected);
  else expect(text).toMatch(expected);
}

/** The message shown under the labelled field (its aria-describedby error). */
export async function fieldError(p: Page, label: string): Promise<string> {
  const field = p.locator('.field', { has: p.getByLabel(label, { exact: true }) });
  return textOf(field.locator('.field-error'));
}

/** The console's session as the tab holds it (packages/console/src/session.tsx). */
export const SESSION_KEY = 'agency-accounts.session';
export const sessionOf = (p: Page) =>
  p.evaluate(
    (key) =>
      JSON.parse((globalThis as any).sessionStorage.getItem(key) ?? 'null') as { token: string; assist?: { token: string } },
    SESSION_KEY,
  );

/** What the page's clipboard holds (the context may read it: consoleContext). */
export const clipboardOf = (p: Page) => p.evaluate(() => (globalThis as any).navigator.clipboard.readText() as Promise<string>);
