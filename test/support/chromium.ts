/**
 * Debian's Chromium, headless, driven by playwright-core (no browser download): a fresh
 * profile per launch, the background services that would reach the internet switched off,
 * and a screenshot in test/artifacts/ when a step fails.
 */
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium, type BrowserContext, type Page } from 'playwright-core';

export const CHROMIUM_PATH = process.env.SKYBOOT_CHROMIUM ?? '/usr/bin/chromium';
export const ARTIFACTS_DIR = fileURLToPath(new URL('../artifacts/', import.meta.url));

export const CHROMIUM_ARGS = ['--headless', '--no-sandbox', '--disable-background-networking', '--disable-gpu', '--disable-component-update', '--disable-sync', '--no-first-run'];

export interface HeadlessBrowser {
  context: BrowserContext;
  page: Page;
  /** Runs `step`; on failure saves a screenshot of the page as test/artifacts/<name>.png and rethrows. */
  step<T>(name: string, step: () => Promise<T>): Promise<T>;
  close(): Promise<void>;
}

export async function launchChromium(): Promise<HeadlessBrowser> {
  if (!existsSync(CHROMIUM_PATH)) throw new Error(`Chromium not found at ${CHROMIUM_PATH}: install Debian's chromium (apt-get install --no-install-recommends chromium, listed in .ci/apt-packages.txt)`);
  const profile = mkdtempSync(join(tmpdir(), 'skyboot-chromium-'));
  const context = await chromium.launchPersistentContext(profile, { executablePath: CHROMIUM_PATH, headless: true, args: CHROMIUM_ARGS, viewport: { width: 1280, height: 900 } });
  const page = context.pages()[0] ?? (await context.newPage());
  return {
    context,
    page,
    async step(name, step) {
      try {
        return await step();
      } catch (err) {
        mkdirSync(ARTIFACTS_DIR, { recursive: true });
        const file = join(ARTIFACTS_DIR, `${name.replace(/[^a-z0-9._-]+/gi, '-')}.png`);
        await page.screenshot({ path: file, fullPage: true }).catch(() => undefined);
        if (err instanceof Error) err.message += `\n(screenshot: ${file}, page ${page.url()})`;
        throw err;
      }
    },
    async close() {
      await context.close();
      rmSync(profile, { recursive: true, force: true });
    },
  };
}

/** The provider's login page, filled in as a person would. */
export async function loginThroughProvider(page: Page, username: string, password: string): Promise<void> {
  await page.waitForSelector('input[name="username"]');
  await page.fill('input[name="username"]', username);
  await page.fill('input[name="password"]', password);
  await Promise.all([page.waitForNavigation(), page.click('button[type="submit"]')]);
}
