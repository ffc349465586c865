// Shared helpers of the browser-mode UI tests and bench:ui: start
// `iommuscope serve` (real core, real WebSocket), launch headless Chromium
// with a fresh profile, open the dashboard, switch tabs, take screenshots.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { chromium, type BrowserContext, type Locator, type Page } from 'playwright-core';
import { cliEntry } from '../shared/cli-entry';

export const repoRoot = path.resolve(__dirname, '..', '..', '..');
export const CHROMIUM = '/usr/bin/chromium';
export const artifactsDir = path.join(repoRoot, 'test-artifacts', 'ui');
const CHROMIUM_ARGS = [
  '--no-sandbox',
  '--disable-background-networking',
  '--disable-gpu',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
];

/** Why the UI tests cannot run here, or null when they can. */
export function uiSkipReason(): string | null {
  if (!existsSync(CHROMIUM)) return `${CHROMIUM} is missing: install chromium to run the UI tests`;
  if (!existsSync(path.join(repoRoot, 'dist', 'renderer', 'index.html'))) {
    return 'dist/renderer/index.html is missing: run npm run build first';
  }
  return null;
}

export interface Serve {
  url: string;
  port: number;
  token: string;
  proc: ChildProcess;
  stderr(): string;
  /** SIGTERM, wait for exit; returns the exit code and everything printed. */
  stop(): Promise<{ code: number | null; stdout: string; stderr: string }>;
}

/** Starts `iommuscope serve --port 0 ...args` and resolves with the URL it prints first. */
export async function startServe(args: string[], port = 0): Promise<Serve> {
  const proc = spawn(process.execPath, [cliEntry(), 'serve', '--port', String(port), ...args], {
    cwd: repoRoot,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  proc.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  const exited = new Promise<number | null>((resolve) => proc.once('exit', (c) => resolve(c)));
  const url = await new Promise<string>((resolve, reject) => {
    const lines = createInterface({ input: proc.stdout! });
    let first = true;
    lines.on('line', (line) => {
      stdout += `${line}\n`;
      if (first) {
        first = false;
        resolve(line.trim());
      }
    });
    const timer = setTimeout(
      () => reject(new Error(`serve printed no URL in 15 s: ${stderr}`)),
      15000,
    );
    void exited.then((code) => {
      clearTimeout(timer);
      if (first) reject(new Error(`serve exited (${code}) before printing its URL: ${stderr}`));
    });
    lines.once('line', () => clearTimeout(timer));
  });
  const parsed = new URL(url);
  return {
    url,
    port: Number(parsed.port),
    token: parsed.searchParams.get('token') ?? '',
    proc,
    stderr: () => stderr,
    stop: async () => {
      if (proc.exitCode === null && proc.signalCode === null) proc.kill('SIGTERM');
      const code = await exited;
      return { code, stdout, stderr };
    },
  };
}

export interface Browser {
  context: BrowserContext;
  close(): Promise<void>;
}

/** Headless Chromium with a fresh profile folder (removed on close). */
export async function launchBrowser(extraArgs: string[] = []): Promise<Browser> {
  const profile = mkdtempSync(path.join(tmpdir(), 'iommuscope-ui-'));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    args: [...CHROMIUM_ARGS, ...extraArgs],
    viewport: { width: 1440, height: 900 },
  });
  return {
    context,
    close: async () => {
      await context.close();
      rmSync(profile, { recursive: true, force: true });
    },
  };
}

/**
 * Opens the dashboard and waits until it shows its tabs with no connection
 * banner; if it never does, the page's uncaught errors say why.
 */
export async function openApp(browser: Browser, url: string): Promise<Page> {
  const page = browser.context.pages()[0] ?? (await browser.context.newPage());
  const problems: string[] = [];
  const onError = (err: Error): void => void problems.push(err.message);
  page.on('pageerror', onError);
  await page.goto(url);
  try {
    await waitConnected(page);
  } catch (err) {
    if (problems.length === 0) throw err;
    throw new Error(`the dashboard did not open; page errors: ${problems.join(' | ')}`, {
      cause: err,
    });
  } finally {
    page.off('pageerror', onError);
  }
  return page;
}

export async function waitConnected(page: Page, timeout = 15000): Promise<void> {
  await page.getByRole('tab', { name: 'Host' }).waitFor({ timeout });
  // A function, not a string: the page's CSP forbids eval.
  await page.waitForFunction(
    () =>
      (
        globalThis as unknown as { document: { querySelector(s: string): unknown } }
      ).document.querySelector('[data-testid="connection-banner"]') === null,
    undefined,
    { timeout },
  );
}

export async function gotoTab(page: Page, name: string): Promise<void> {
  await page.getByRole('tab', { name, exact: true }).click();
  await page.getByTestId(`view-${name.toLowerCase()}`).waitFor();
}

export async function screenshot(page: Page, name: string): Promise<string> {
  mkdirSync(artifactsDir, { recursive: true });
  const file = path.join(artifactsDir, `${name}.png`);
  await page.screenshot({ path: file });
  return file;
}

/** Polls `fn` until it returns a truthy value; throws with `what` after `timeout` ms. */
export async function until<T>(
  what: string,
  fn: () => Promise<T> | T,
  timeout = 10000,
): Promise<T> {
  const end = Date.now() + timeout;
  let last: unknown;
  for (;;) {
    try {
      const v = await fn();
      if (v) return v;
      last = v;
    } catch (err) {
      last = err;
    }
    if (Date.now() > end) throw new Error(`timed out waiting for ${what} (last: ${String(last)})`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** Pending groups according to the page's newest frame (from the Live counters' source). */
export async function pendingInPage(page: Page): Promise<number> {
  const text = await page.getByTestId('session-summary').textContent();
  const m = /([\d.,]+) pending/.exec(text ?? '');
  return m ? Number(m[1]!.replace(/,/g, '')) : -1;
}

/** The Faults table row at scroll position `pos` (0 = first group in the log). */
export function faultRow(page: Page, pos: number): Locator {
  return page.locator(`[data-testid="fault-row"][data-pos="${pos}"]`);
}

/** Waits for `groups` pending groups, opens Faults and waits until the last one's row is loaded. */
export async function openFaultsWithPending(page: Page, groups: number): Promise<void> {
  await until(`${groups} pending`, async () => (await pendingInPage(page)) === groups);
  await gotoTab(page, 'Faults');
  await until(
    'rows',
    async () => (await faultRow(page, groups - 1).getAttribute('data-state')) === 'pending',
  );
}
