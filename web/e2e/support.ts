// What every browser story needs: the servers' URLs, Chromium, two partners' tabs.
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { mkdirSync, readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { type Browser, type BrowserContext, type BrowserContextOptions, type Page, chromium } from "playwright-core";

function need(name: string): string {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is not set: run the browser tests through tests/test_browser.py`);
  return value.replace(/\/+$/, "");
}

export const env = {
  /** Node 1, where Ana's tab is. */
  url: () => need("TWOFOLD_URL"),
  /** Node 2, where Ben's tab is. */
  url2: () => need("TWOFOLD_URL_2"),
  /** An origin on the nodes' TWOFOLD_CORS_ORIGINS list: http://127.0.0.1:<a free port>. */
  allowedOrigin: () => need("TWOFOLD_ALLOWED_ORIGIN"),
  /** The nodes' database, where the mails they wrote wait (no SMTP server is set). */
  databaseUrl: () => need("TWOFOLD_TEST_DATABASE_URL"),
  /** The Python that runs the repository's helpers. */
  python: () => need("TWOFOLD_PYTHON"),
};

// e2e/.build/support.js -> the repository
const ROOT = join(dirname(fileURLToPath(import.meta.url)), "..", "..", "..");

/** The newest sign-up code mailed to ``email``, read from the nodes' outbox by the
 * repository's own helper (tests/mailed.py). */
export async function mailedCode(email: string): Promise<string> {
  const { stdout } = await promisify(execFile)(env.python(), ["-m", "tests.mailed", email], {
    cwd: ROOT,
    env: { ...process.env, DATABASE_URL: env.databaseUrl() },
  });
  return stdout.trim();
}

// e2e/.build/support.js -> e2e/screenshots/
export const SCREENSHOTS = join(dirname(fileURLToPath(import.meta.url)), "..", "screenshots");

export async function launch(): Promise<Browser> {
  return chromium.launch({
    executablePath: process.env.CHROMIUM ?? "/usr/bin/chromium",
    args: [
      "--headless",
      "--no-sandbox",
      "--disable-gpu",
      "--disable-quic",
      "--no-first-run",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
    ],
  });
}

/** Everything the pages' Content-Security-Policy refused, in any context of the suite. */
const refused: string[] = [];

/** A browser context whose every page reports what its Content-Security-Policy refuses (the
 * `securitypolicyviolation` event, and the console's word for it): `assertNoCspViolations`
 * fails the suite on any. Every context of the browser tests is made here. */
export async function newContext(browser: Browser, options: BrowserContextOptions = {}): Promise<BrowserContext> {
  const context = await browser.newContext(options);
  await context.exposeBinding("__twofoldRefused", ({ page }, what: string) => {
    refused.push(`${page.url()}: ${what}`);
  });
  await context.addInitScript(() => {
    document.addEventListener("securitypolicyviolation", (e) => {
      const report = (window as unknown as { __twofoldRefused(what: string): void }).__twofoldRefused;
      void report(`${e.effectiveDirective} refused ${e.blockedURI || "inline"} (${e.sourceFile}:${e.lineNumber})`);
    });
  });
  context.on("console", (message) => {
    if (/Content.Security.Policy/i.test(message.text())) refused.push(`${message.page()?.url()}: ${message.text()}`);
  });
  return context;
}

/** No page so far was refused anything by its policy: the app works under it as served. */
export function assertNoCspViolations(): void {
  assert.deepEqual(refused, [], "the Content-Security-Policy refused something");
}

/** A partner's browser: its own storage, its own clock-less page, failures on the console. */
export async function tab(
  browser: Browser,
  url: string,
  options: { phone?: boolean; name: string },
): Promise<{ context: BrowserContext; page: Page }> {
  const context = await newContext(browser, {
    viewport: options.phone ? { width: 375, height: 812 } : { width: 1100, height: 900 },
    locale: "en-US",
    timezoneId: "Europe/Berlin",
    baseURL: url,
  });
  // How long a step waits for what it expects: it comes on a loaded 2-core machine too, and
  // only a stuck page takes longer (15 s timed out once with the load average at 8).
  context.setDefaultTimeout(60_000);
  const page = await context.newPage();
  watch(page, options.name);
  await page.goto("/");
  return { context, page };
}

export function watch(page: Page, name: string): void {
  page.on("pageerror", (error) => console.error(`[${name}] page error: ${error.message}`));
}

export async function shot(page: Page, name: string): Promise<void> {
  mkdirSync(SCREENSHOTS, { recursive: true });
  await page.screenshot({ path: join(SCREENSHOTS, `${name}.png`), fullPage: true });
}

// Run through the DevTools protocol, not as a <script> the page's policy would refuse.
const AXE = readFileSync(createRequire(import.meta.url).resolve("axe-core/axe.min.js"), "utf8");

/** axe-core finds nothing on the page against WCAG 2.1 A and AA: names for every control,
 * text contrast of 4.5:1, landmarks, headings in order... */
export async function assertAccessible(page: Page): Promise<void> {
  if (!(await page.evaluate(() => "axe" in window))) await page.evaluate(AXE);
  const violations = await page.evaluate(async () => {
    const axe = (window as unknown as { axe: { run(ctx: Document, opts: object): Promise<AxeResults> } }).axe;
    const results = await axe.run(document, {
      runOnly: { type: "tag", values: ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"] },
    });
    return results.violations.map(
      (v) => `${v.id}: ${v.help} (${v.nodes.map((n) => n.target.join(" ")).join(", ")})`,
    );
  });
  assert.deepEqual(violations, [], `accessibility problems on ${page.url()}`);
}

interface AxeResults {
  violations: { id: string; help: string; nodes: { target: string[] }[] }[];
}

/** Nothing sticks out sideways: the page works at a phone's width. */
export async function assertFitsWidth(page: Page): Promise<void> {
  const { scroll, width } = await page.evaluate(() => ({
    scroll: document.documentElement.scrollWidth,
    width: window.innerWidth,
  }));
  assert.ok(scroll <= width, `${page.url()} is ${scroll}px wide in a ${width}px window`);
}

export async function go(page: Page, link: string): Promise<void> {
  await page.getByRole("navigation", { name: "Practices" }).getByRole("link", { name: link }).click();
  await page.getByRole("heading", { level: 1 }).first().waitFor();
}

export function uniqueEmail(name: string): string {
  return `${name.toLowerCase()}-${Date.now()}-${Math.floor(Math.random() * 1e6)}@example.org`;
}

export async function signUp(page: Page, name: string, email: string, password: string): Promise<void> {
  await page.getByLabel("Your first name").fill(name);
  await page.getByLabel("Email").fill(email);
  await page.getByLabel("Password").fill(password);
  await page.getByRole("button", { name: "Make my account" }).click();
  // The second step: the code the server mailed.
  const code = page.getByLabel("Code from the mail");
  await code.waitFor();
  await code.fill(await mailedCode(email));
  await page.getByRole("button", { name: "Make my account" }).click();
}

/** The entries with this text on a page, counted. */
export function entries(page: Page, text: string) {
  return page.locator('[data-testid="entry"]', { hasText: text });
}
