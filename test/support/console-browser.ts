import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, expect } from 'vitest';
import { type AgencyFixture, api, createSubAccount, type SubAccountFixture, signUpAgency } from './api';
import { consoleContext, launchBrowser, SESSION_KEY } from './browser';
import { expectStatus, topUp } from './ledger';
import { stack } from './stack';

/**
 * The browser tests' fixture: one browser per file, a fresh context per page, and every test
 * failed by any page error or console error (a CSP violation is one) its pages had. Each test
 * makes its own agency through the API and opens the console already signed in, so it uses the
 * browser only for what it tests and can run alone (`-t`).
 */
export interface ConsoleBrowser {
  /** A page of a fresh context at the console's origin, signed out. */
  open(): Promise<Page>;
  /** A page of a fresh context signed in as `user` (a login through the API), opened at `path`. */
  signedIn(user: { email: string; password: string }, path?: string): Promise<Page>;
  /** This test's page errors and console errors so far (a test that causes some on purpose takes them out). */
  readonly errors: string[];
}

export function consoleBrowser(): ConsoleBrowser {
  let browser: Browser | undefined;
  const contexts: BrowserContext[] = [];
  const pages: Page[] = [];
  const errors: string[] = [];
  beforeAll(async () => {
    browser = await launchBrowser();
  });
  afterAll(async () => {
    await browser?.close();
  });
  afterEach(async (ctx) => {
    const seen = errors.splice(0);
    if (ctx.task.result?.state === 'fail' && process.env.CONSOLE_DUMP)
      for (const p of pages) console.error(await p.locator('main').innerHTML().catch(String));
    pages.splice(0);
    await Promise.all(contexts.splice(0).map((c) => c.close()));
    expect(seen, 'page errors and console errors (CSP violations included)').toEqual([]);
  });

  const open = async () => {
    if (!browser) throw new Error('consoleBrowser() must be called at the top of a test file');
    const { context } = await consoleContext(browser, stack.apiUrl, errors);
    contexts.push(context);
    const page = await context.newPage();
    pages.push(page);
    return page;
  };
  return {
    open,
    errors,
    async signedIn(user, path = '/') {
      const login = expectStatus(
        await api('POST', '/v1/auth/login', { body: { email: user.email, password: user.password } }),
        200,
        'login',
      ).body;
      const session = { token: login.token, expiresAt: login.expiresAt, principal: login.principal };
      const page = await open();
      // The session goes where the console keeps it, on a blank page of the origin (never fetched), before it loads.
      const blank = '**/__session';
      await page.route(blank, (route) =>
        route.fulfill({ contentType: 'text/html', body: '<!doctype html><title>session</title>' }),
      );
      await page.goto('/__session');
      await page.evaluate(
        ([key, value]) => (globalThis as any).sessionStorage.setItem(key, value),
        [SESSION_KEY, JSON.stringify(session)],
      );
      await page.unroute(blank);
      await page.goto(path);
      return page;
    },
  };
}

/** An agency made through the API: signed up, its email verified, on `plan` (default `agency`), with `pool` credits. */
export async function newAgency(opts: { pool?: number; plan?: 'starter' | 'pro' | 'agency' } = {}): Promise<AgencyFixture> {
  const agency = await signUpAgency(opts.plan ?? 'agency');
  if (opts.pool) expectStatus(await topUp(agency.agencyId, opts.pool), 201, 'top-up');
  return agency;
}

/**
 * `newAgency`, and a console page signed in as its owner at `path`. A test that needs more
 * (clients, campaigns, usage) makes them first and then calls `b.signedIn`: the console reads
 * what exists when the page loads.
 */
export async function agencyWithConsole(
  b: ConsoleBrowser,
  opts: { pool?: number; plan?: 'starter' | 'pro' | 'agency'; path?: string } = {},
): Promise<{ agency: AgencyFixture; page: Page }> {
  const agency = await newAgency(opts);
  return { agency, page: await b.signedIn(agency, opts.path) };
}

/** `n` sub-accounts of the agency, each with its client logged in once (their passwords known). */
export async function withSubAccounts(agency: AgencyFixture, n: number): Promise<SubAccountFixture[]> {
  return Promise.all(Array.from({ length: n }, () => createSubAccount(agency.token)));
}
