// Cleo uses Twofold on a computer others use too: it leaves nothing of her behind, keeps the
// crisis and leave screens out of the tab's history, has a quick exit, and can ask for her
// password again after she has been away.
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { setTimeout as delay } from "node:timers/promises";
import type { Browser, BrowserContext, Page, Route } from "playwright-core";
import { assertAccessible, assertNoCspViolations, env, launch, shot, signUp, tab, uniqueEmail } from "./support.js";

const PASSWORD = "a shared computer";
// The app's quick exit goes here (src/exit.ts); the tests answer it themselves, offline.
const NEUTRAL = "https://www.bbc.com/weather";
const NEUTRAL_PAGE = "<!doctype html><title>Weather</title><p>Sunny spells.</p>";

/** What the app keeps in this browser: its keys in either storage, its IndexedDB databases. */
function traces(page: Page): Promise<string[]> {
  return page.evaluate(async () => [
    ...Object.keys(localStorage).map((k) => `localStorage ${k}`),
    ...Object.keys(sessionStorage).map((k) => `sessionStorage ${k}`),
    ...(await indexedDB.databases()).map((db) => `indexedDB ${db.name}`),
  ]);
}

/** The browser holds nothing at all of the app's. Deleting a database finishes a moment after
 * the screen has moved on, so this asks again for a few seconds (from here: the page's own
 * timers may be a test clock's). */
async function nothingLeft(page: Page): Promise<void> {
  let left = await traces(page);
  for (let i = 0; i < 50 && left.length > 0; i++) {
    await delay(100);
    left = await traces(page);
  }
  assert.deepEqual(left, [], `${page.url()} left traces`);
}

async function signIn(page: Page, email: string): Promise<void> {
  await page.getByRole("button", { name: "Sign in" }).click();
  await page.getByLabel("Email").fill(email);
  await page.getByLabel("Password").fill(PASSWORD);
  await page.getByRole("button", { name: "Sign in" }).click();
  await page.getByRole("heading", { name: "Link up with your partner" }).waitFor();
}

async function section(page: Page, name: string): Promise<void> {
  await page.getByRole("navigation", { name: "Sections" }).getByRole("link", { name }).click();
}

/** The quick exit's destination, answered here, offline; or, with `abort`, never answered, so
 * the page it leaves stays to be looked at (an aborted navigation commits no error page). */
async function neutralSite(context: BrowserContext, abort = false): Promise<{ asked: () => number }> {
  let asked = 0;
  await context.route(`${NEUTRAL}**`, async (route: Route) => {
    asked++;
    if (abort) await route.abort("aborted");
    else await route.fulfill({ status: 200, contentType: "text/html", body: NEUTRAL_PAGE });
  });
  return { asked: () => asked };
}

/** The quick exit is on screen as it opens, with no scrolling, on this page's window. */
async function quickExitInView(page: Page): Promise<void> {
  const box = await page.getByTestId("quick-exit").boundingBox();
  const height = page.viewportSize()!.height;
  assert.ok(box && box.y >= 0 && box.y + box.height <= height, `Quick exit out of view on ${page.url()}`);
}

describe("Cleo, on a computer others use", () => {
  let browser: Browser;
  let desk: { context: BrowserContext; page: Page };
  const email = uniqueEmail("cleo");

  before(async () => {
    browser = await launch();
    desk = await tab(browser, env.url(), { name: "Cleo" });
    await signUp(desk.page, "Cleo", email, PASSWORD);
    await desk.page.getByRole("heading", { name: "Link up with your partner" }).waitFor();
  });

  after(async () => {
    await browser?.close();
  });

  it("the crisis and leave screens take no place in the tab's history", async () => {
    const { page } = desk;
    await section(page, "Growth");
    await page.getByRole("heading", { name: "My growth" }).waitFor();
    const length = await page.evaluate(() => history.length);
    await page.getByTestId("help-now").click();
    await page.getByRole("heading", { name: "Help, now" }).waitFor();
    assert.equal(await page.evaluate(() => history.length), length);
    await section(page, "Settings");
    await page.getByRole("link", { name: "Leave safely" }).click();
    await page.getByRole("heading", { level: 1, name: "Leave safely" }).waitFor();
    assert.equal(await page.evaluate(() => history.length), length);
    // Back goes past both, to where she was before Growth.
    await page.goBack();
    await page.getByRole("heading", { name: "Link up with your partner" }).waitFor();
    assert.equal(new URL(page.url()).pathname, "/link");
  });

  it("the quick exit is in plain sight on the crisis and leave screens, phone and desktop", async () => {
    const phone = await tab(browser, env.url(), { name: "Cleo's phone" });
    await phone.page.setViewportSize({ width: 390, height: 844 });
    await signIn(phone.page, email);
    for (const { page, name } of [
      { page: desk.page, name: "desk" },
      { page: phone.page, name: "phone" },
    ]) {
      await page.getByTestId("help-now").click();
      await page.getByTestId("crisis-lines").waitFor();
      await quickExitInView(page);
      await assertAccessible(page);
      await shot(page, `crisis-quick-exit-${name}`);
      await section(page, "Settings");
      await page.getByRole("link", { name: "Leave safely" }).click();
      await page.getByRole("heading", { level: 1, name: "Leave safely" }).waitFor();
      await quickExitInView(page);
      await assertAccessible(page);
      await shot(page, `leave-quick-exit-${name}`);
      await section(page, "Link up");
    }
    await phone.context.close();
  });

  it("Quick exit blanks the page at once and leaves for the weather", async () => {
    const { context, page } = desk;
    const site = await neutralSite(context, true);
    await page.getByTestId("help-now").click();
    await page.getByTestId("crisis-lines").waitFor();
    await page.getByTestId("quick-exit").click();
    await page.waitForFunction(() => document.title === "Weather");
    // Nothing of the screen is left to see while the weather loads, and the crisis screen's
    // entry in the tab's history says only the app's start.
    assert.equal(await page.evaluate(() => document.body.childElementCount), 0);
    assert.equal(await page.evaluate(() => location.pathname), "/");
    assert.equal(site.asked(), 1);
    await context.unroute(`${NEUTRAL}**`);
    await page.goto("/link");
    await page.getByRole("heading", { name: "Link up with your partner" }).waitFor();
  });

  it("Esc twice, anywhere, is the quick exit too; Back does not bring the screen back", async () => {
    const { context, page } = desk;
    await neutralSite(context);
    await page.getByTestId("help-now").click();
    await page.getByTestId("crisis-lines").waitFor();
    await page.keyboard.press("Escape");
    assert.equal(new URL(page.url()).pathname, "/crisis"); // once is only Esc
    await page.keyboard.press("Escape");
    await page.waitForURL(NEUTRAL);
    await page.getByText("Sunny spells.").waitFor();
    await page.goBack();
    await page.getByRole("heading", { level: 1 }).waitFor();
    assert.notEqual(new URL(page.url()).pathname, "/crisis");
    await context.unroute(`${NEUTRAL}**`);
    await page.goto("/link");
    await page.getByRole("heading", { name: "Link up with your partner" }).waitFor();
  });

  it("with the screen lock on, her growth log asks for her password after 5 minutes away", async () => {
    const { page } = desk;
    await section(page, "Settings");
    await page.getByLabel("Ask for my password again after").selectOption("5");
    await page.clock.install();
    await section(page, "Growth");
    await page.getByRole("heading", { name: "My growth" }).waitFor();
    await page.clock.fastForward("04:00");
    await section(page, "Settings");
    await page.getByRole("link", { name: "Where you're signed in" }).click();
    await page.getByTestId("sessions").waitFor(); // 4 minutes: still open
    await page.clock.fastForward("06:00");
    await section(page, "Growth");
    await page.getByRole("heading", { name: "Your password, please" }).waitFor();
    assert.equal(await page.getByText("Only you see this page.").count(), 0);
    await assertAccessible(page);
    await shot(page, "screen-lock");
    await page.getByLabel("Your password").fill("not my password");
    await page.getByTestId("unlock").click();
    await page.getByRole("alert").filter({ hasText: "The password is wrong" }).waitFor();
    await page.getByLabel("Your password").fill(PASSWORD);
    await page.getByTestId("unlock").click();
    await page.getByRole("heading", { name: "My growth" }).waitFor();
    // Away again, with the log open: it closes itself at her next key press.
    await page.clock.fastForward("05:30");
    await page.keyboard.press("Shift");
    await page.getByRole("heading", { name: "Your password, please" }).waitFor();
    await page.getByLabel("Your password").fill(PASSWORD);
    await page.getByTestId("unlock").click();
    await page.getByRole("heading", { name: "My growth" }).waitFor();
  });

  it("signing out leaves nothing of her in the browser", async () => {
    const { page } = desk;
    await page.getByTestId("help-now").click(); // the crisis screen keeps her country for the tab
    await page.getByTestId("crisis-lines").waitFor();
    const before = await traces(page);
    for (const kept of ["localStorage twofold:tokens", "sessionStorage twofold:crisis-country", "indexedDB twofold:"]) {
      assert.ok(
        before.some((t) => t.startsWith(kept)),
        `${kept} is kept while signed in: ${before}`,
      );
    }
    await section(page, "Settings");
    await page.getByRole("button", { name: "Sign out" }).click();
    await page.getByRole("heading", { name: "Make your account" }).waitFor();
    await nothingLeft(page);
  });

  it("a session ended from another browser leaves nothing of her in the first", async () => {
    const { page } = desk;
    await signIn(page, email);
    const other = await tab(browser, env.url2(), { name: "Cleo elsewhere" });
    await signIn(other.page, email);
    await section(other.page, "Settings");
    await other.page.getByRole("link", { name: "Where you're signed in" }).click();
    await other.page.getByTestId("end-others").click();
    await page.getByText("This session has ended.").waitFor();
    await nothingLeft(page);
    await other.context.close();
  });

  it("leaving (and erasing her account) leaves nothing of her either", async () => {
    const { page } = desk;
    await signIn(page, email);
    await section(page, "Settings");
    await page.getByRole("link", { name: "Leave safely" }).click();
    await page.getByLabel("Your password").fill(PASSWORD);
    await page.getByLabel("Also erase my account and everything in it").check();
    await page.getByTestId("leave").click();
    await page.getByText("You are signed out everywhere.").waitFor();
    await nothingLeft(page);
  });

  it("no page was refused anything by its Content-Security-Policy", () => {
    assertNoCspViolations();
  });
});
