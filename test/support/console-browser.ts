import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BrowserContext, chromium, Page } from 'playwright-core';

/** Debian's chromium package: the console's tests never use a browser downloaded by a package. */
export const CHROMIUM = '/usr/bin/chromium';

const ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-quic', '--no-first-run', '--disable-component-update', '--disable-sync'];

export interface ConsoleBrowser {
  context: BrowserContext;
  page: Page;
  /** Dialogs opened (an XSS would open one), uncaught page errors, and every 5xx the page received. */
  dialogs: string[];
  pageErrors: string[];
  serverErrors: string[];
  close(): Promise<void>;
}

/** Headless chromium with a fresh profile (its own user data dir, removed on close). */
export async function launchConsoleBrowser(stepTimeoutMs: number): Promise<ConsoleBrowser> {
  const userDataDir = mkdtempSync(join(tmpdir(), 'bulkhead-console-chromium-'));
  const context = await chromium.launchPersistentContext(userDataDir, { executablePath: CHROMIUM, headless: true, args: ARGS, viewport: { width: 1280, height: 900 } });
  const page = context.pages()[0] ?? (await context.newPage());
  page.setDefaultTimeout(stepTimeoutMs);
  const browser: ConsoleBrowser = {
    context,
    page,
    dialogs: [],
    pageErrors: [],
    serverErrors: [],
    close: async () => {
      await context.close();
      rmSync(userDataDir, { recursive: true, force: true });
    },
  };
  page.on('dialog', (dialog) => {
    browser.dialogs.push(dialog.message());
    void dialog.dismiss();
  });
  page.on('pageerror', (error) => browser.pageErrors.push(error.message));
  // The browser logs every non-2xx fetch as an error; the console expects some 404s (a tenant
  // never moved has no move), so those are judged by their status instead.
  page.on('console', (message) => {
    if (message.type() === 'error' && !message.text().startsWith('Failed to load resource')) browser.pageErrors.push(message.text());
  });
  page.on('response', (response) => {
    if (response.status() >= 500) browser.serverErrors.push(`${response.status()} ${response.request().method()} ${new URL(response.url()).pathname}`);
  });
  return browser;
}
