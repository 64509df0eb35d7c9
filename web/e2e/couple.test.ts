// Ana and Ben, each in their own browser on their own server node, do every practice together.
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import type { Browser, BrowserContext, Page } from "playwright-core";
import {
  assertAccessible,
  assertFitsWidth,
  assertNoCspViolations,
  entries,
  env,
  go,
  launch,
  shot,
  signUp,
  tab,
  uniqueEmail,
  watch,
} from "./support.js";

const PASSWORD = "correct horse battery";

declare global {
  interface Window {
    __clickAt?: number;
    __pauseSeenAt?: number;
  }
}

describe("Ana and Ben, live in two browsers on two nodes", () => {
  let browser: Browser;
  let anaContext: BrowserContext;
  let benContext: BrowserContext;
  let ana: Page;
  let ben: Page;
  const anaEmail = uniqueEmail("ana");
  const benEmail = uniqueEmail("ben");

  before(async () => {
    browser = await launch();
    ({ context: anaContext, page: ana } = await tab(browser, env.url(), { name: "Ana" }));
    // Ben is on his phone.
    ({ context: benContext, page: ben } = await tab(browser, env.url2(), { name: "Ben", phone: true }));
  });

  after(async () => {
    await browser?.close();
  });

  it("they sign up and link with a code", async () => {
    await ana.getByRole("heading", { name: "Make your account" }).waitFor();
    await assertAccessible(ana);
    await shot(ana, "welcome");
    await signUp(ana, "Ana", anaEmail, PASSWORD);
    await ana.getByRole("heading", { name: "Link up with your partner" }).waitFor();
    await ana.getByRole("button", { name: "Make a code" }).click();
    const code = (await ana.getByTestId("invite-code").textContent())?.trim() ?? "";
    assert.match(code, /^[A-Z2-9]{8}$/);
    await assertAccessible(ana);
    await shot(ana, "invite");

    await signUp(ben, "Ben", benEmail, PASSWORD);
    // A mistyped code is said plainly, where the code was typed.
    await ben.getByLabel("Your partner's code").fill("ABCD2345");
    await ben.getByRole("button", { name: "Link us" }).click();
    await ben.getByRole("alert").waitFor();
    // As Ana says it: lower case, with a dash; both are fine.
    await ben.getByLabel("Your partner's code").fill(code.toLowerCase().replace(/(....)/, "$1-"));
    await ben.getByRole("button", { name: "Link us" }).click();

    // Ana's screen moves on by itself when Ben has typed her code in.
    await ana.getByTestId("pause-start").waitFor();
    await ben.getByTestId("pause-start").waitFor();
    await ana.getByRole("heading", { name: "Ana & Ben" }).waitFor();
    await ben.getByRole("heading", { name: "Ben & Ana" }).waitFor();
  });

  it("each sees the other is here", async () => {
    await ana.getByTestId("presence").filter({ hasText: "Ben is here" }).waitFor();
    await ben.getByTestId("presence").filter({ hasText: "Ana is here" }).waitFor();
  });

  it("Ana takes a pause from the keyboard; Ben's tab shows it at once", async () => {
    await ben.evaluate(() => {
      // Stamped the moment the pause appears in Ben's page, by the page's own clock: both
      // tabs run on this machine, so their Date.now() compare.
      const seen = () => {
        if (window.__pauseSeenAt === undefined && document.querySelector('[data-testid="pause-active"]')) {
          window.__pauseSeenAt = Date.now();
        }
      };
      new MutationObserver(seen).observe(document.body, { childList: true, subtree: true });
    });
    await ana.getByText("How long, and a word for your partner").click();
    await ana.getByLabel("Minutes").fill("30");
    await ana.getByLabel("A note").fill("I need a break; I love you");
    await ana.evaluate(() =>
      document
        .querySelector('[data-testid="pause-start"]')
        ?.addEventListener("click", () => (window.__clickAt = Date.now()), { capture: true }),
    );
    // From the note, back through the options to the button, by keyboard alone.
    await tabTo(ana, "pause-start", "Shift+Tab");
    await ana.keyboard.press("Enter");

    await ben.getByTestId("pause-active").waitFor();
    const clickAt = await ana.evaluate(() => window.__clickAt);
    const seenAt = await ben.evaluate(() => window.__pauseSeenAt);
    assert.ok(clickAt && seenAt, "both moments were stamped");
    const latency = seenAt - clickAt;
    console.log(`pause latency between tabs: ${latency} ms`);
    assert.ok(latency >= 0 && latency < 5000, `the pause took ${latency} ms to reach Ben`);

    await ben.getByRole("heading", { name: "Ana asked for a pause" }).waitFor();
    assert.equal(await ben.getByTestId("pause-note").textContent(), "“I need a break; I love you”");
    assert.match((await ben.getByTestId("pause-countdown").textContent()) ?? "", /^(30:00|29:[0-5]\d)$/);
    await ana.getByRole("heading", { name: "You asked for a pause" }).waitFor();
    await assertFitsWidth(ben);
    await assertAccessible(ben);
    await shot(ben, "pause-phone");
    // The same at night, in the dark scheme.
    await ben.emulateMedia({ colorScheme: "dark" });
    await assertAccessible(ben);
    await shot(ben, "pause-phone-dark");
    await ben.emulateMedia({ colorScheme: "light" });
  });

  it("Ben acknowledges and extends it; Ana sees both", async () => {
    // Elsewhere in the app, the pause stays in sight, one tap away.
    await go(ben, "Reading");
    await ben.getByRole("status").filter({ hasText: "A pause is on" }).waitFor();
    await ben.getByRole("link", { name: "Go to the pause" }).click();
    await ben.getByTestId("pause-active").waitFor();
    await ben.getByTestId("pause-ack").click();
    await ana.getByTestId("pause-ack-state").filter({ hasText: "Ben has seen it" }).waitFor();
    await ben.getByTestId("pause-extend").click();
    await ana.getByText("40 minutes in all").waitFor();
    await ben.getByText("40 minutes in all").waitFor();
    await shot(ana, "pause");
  });

  it("when the time is up, a device says so by itself, before any word from the server", async () => {
    // Ben's tablet: its clock is moved past the pause's end; the server's pause goes on.
    const tablet = await tab(browser, env.url(), { name: "Ben's tablet" });
    await tablet.page.getByRole("button", { name: "Sign in" }).click();
    await tablet.page.getByLabel("Email").fill(benEmail);
    await tablet.page.getByLabel("Password").fill(PASSWORD);
    await tablet.page.getByRole("button", { name: "Sign in" }).click();
    await tablet.page.getByTestId("pause-active").waitFor();
    await tablet.context.clock.install();
    await tablet.context.clock.fastForward("41:00");
    await tablet.page.getByTestId("pause-callback").filter({ hasText: "The time you set is up." }).waitFor();
    await tablet.context.close();
    // The others are still in the pause.
    assert.equal(await ben.getByTestId("pause-active").count(), 1);
  });

  it("Ana ends it; both get the call back", async () => {
    await ana.getByTestId("pause-end").click();
    await ana.getByTestId("pause-callback").waitFor();
    await ben.getByTestId("pause-callback").filter({ hasText: "Ana is ready to come back." }).waitFor();
    await assertAccessible(ben);
    await shot(ben, "callback-phone");
    await ben.getByRole("button", { name: "We're back" }).click();
    await ben.getByTestId("pause-start").waitFor();
    await ana.getByRole("button", { name: "We're back" }).click();
  });

  it("they write tonight's reading together, each seeing the other's words appear", async () => {
    await go(ana, "Reading");
    await ana.getByTestId("reading-start").click();
    await go(ben, "Reading");
    await ben.getByTestId("reading-section").waitFor();

    await ana.getByLabel("Your words").fill("You made dinner when I was late.");
    await ana.getByTestId("entry-add").click();
    await entries(ben, "You made dinner when I was late.").waitFor();

    await ben.getByLabel("Your words").fill("Thank you for the walk.");
    await ben.getByTestId("entry-add").click();
    await entries(ana, "Thank you for the walk.").waitFor();

    // A concern goes with what would help.
    await ben.getByTestId("section-concerns").click();
    await ben.getByLabel("Your concern").fill("The phones at dinner.");
    await ben.getByLabel("What would help").fill("A basket for them by the door.");
    await ben.getByTestId("entry-add").click();
    await ana.getByTestId("section-concerns").click();
    await entries(ana, "The phones at dinner.").filter({ hasText: "What would help: A basket for them by the door." }).waitFor();

    // Ana edits her appreciation; Ben sees the new words, and the old ones go.
    await ana.getByTestId("section-appreciations").click();
    await ben.getByTestId("section-appreciations").click();
    const mine = entries(ana, "You made dinner when I was late.");
    await mine.getByRole("button", { name: "Edit" }).click();
    const editing = ana.locator('[data-testid="entry"][data-author="me"]');
    await editing.getByLabel("Your words").fill("You made dinner when I was late, and kept it warm.");
    await editing.getByRole("button", { name: "Save" }).click();
    await entries(ben, "and kept it warm").waitFor();
    assert.equal(await entries(ben, "You made dinner").count(), 1);

    // A puzzle written and taken back disappears from Ben's tab too.
    await ana.getByTestId("section-puzzles").click();
    await ben.getByTestId("section-puzzles").click();
    await ana.getByLabel("Your words").fill("Why the quiet at breakfast?");
    await ana.getByTestId("entry-add").click();
    await entries(ben, "Why the quiet at breakfast?").waitFor();
    await entries(ana, "Why the quiet at breakfast?").getByRole("button", { name: "Delete" }).click();
    await entries(ben, "Why the quiet at breakfast?").waitFor({ state: "detached" });

    // Done with a section, each sees the other is.
    await ana.getByTestId("section-appreciations").click();
    await ben.getByTestId("section-appreciations").click();
    await ana.getByTestId("section-done").click();
    await ben.getByTestId("section-done-state").filter({ hasText: "Ana is done with it." }).waitFor();
    await ben.getByTestId("section-done").click();
    await ana.getByTestId("section-done-state").filter({ hasText: "Ben is done with it." }).waitFor();
    await assertAccessible(ana);
    await assertFitsWidth(ben);
    await shot(ana, "reading");
    await ana.emulateMedia({ colorScheme: "dark" });
    await assertAccessible(ana);
    await shot(ana, "reading-dark");
    await ana.emulateMedia({ colorScheme: "light" });
  });

  it("they step through a repair, each seeing the other's ticks and notes", async () => {
    await go(ana, "Repair");
    await ana.getByLabel("What it's about (optional)").fill("The quiet dinner");
    await ana.getByTestId("repair-start").click();
    await go(ben, "Repair");
    await ben.getByRole("heading", { name: "The quiet dinner" }).waitFor();

    await ana.getByTestId("step-responsibility-tick").check();
    await ben.getByTestId("step-responsibility-partner").filter({ hasText: "Ana: done at" }).waitFor();
    await ben.getByTestId("step-responsibility-tick").check();
    const note = ben.getByTestId("step-responsibility");
    await note.getByLabel("Your note (optional)").fill("I went quiet instead of saying I was hurt.");
    await note.getByRole("button", { name: "Save note" }).click();
    await ana
      .getByTestId("step-responsibility-partner-note")
      .filter({ hasText: "I went quiet instead of saying I was hurt." })
      .waitFor();
    await ana.getByText("1 of 6 steps done by you both.").waitFor();
    await ben.getByText("1 of 6 steps done by you both.").waitFor();
    await ana.getByTestId("step-impact-tick").check();
    await ben.getByTestId("step-impact-partner").filter({ hasText: "Ana: done at" }).waitFor();
    await assertAccessible(ben);
    await assertFitsWidth(ben);
    await shot(ben, "repair-phone");

    await ben.getByTestId("repair-finish").click();
    await ana.getByTestId("repair-start").waitFor();
  });

  it("Ben proposes a ritual, Ana accepts, both check in and the streak counts it", async () => {
    await go(ben, "Rituals");
    await ben.getByLabel("What").fill("Morning coffee");
    await ben.getByLabel("At", { exact: true }).fill("07:30");
    await ben.getByTestId("ritual-propose").click();
    await ben.getByTestId("ritual-state").filter({ hasText: "Waiting for Ana to accept." }).waitFor();

    await go(ana, "Rituals");
    await ana.getByTestId("ritual-state").filter({ hasText: "Ben proposed this." }).waitFor();
    await ana.getByTestId("ritual-accept").click();
    await ben.getByTestId("ritual-streak").filter({ hasText: "Streak: 0 times together" }).waitFor();

    await ana.getByTestId("ritual-checkin").click();
    await ben.getByTestId("ritual-checkins").filter({ hasText: "Ana did too." }).waitFor();
    await ben.getByTestId("ritual-checkin").click();
    await ana.getByTestId("ritual-streak").filter({ hasText: "Streak: 1 time together" }).waitFor();
    await ben.getByTestId("ritual-streak").filter({ hasText: "Streak: 1 time together" }).waitFor();
    await ana.getByTestId("ritual-checkins").filter({ hasText: "You checked in for today. Ben did too." }).waitFor();
    await assertAccessible(ana);
    await shot(ana, "rituals");
  });

  it("Ben goes offline, writes an entry, comes back: it appears once on both", async () => {
    await go(ben, "Reading");
    await go(ana, "Reading");
    await ben.getByTestId("section-wishes").click();
    await ana.getByTestId("section-wishes").click();

    await benContext.setOffline(true);
    await ben.getByTestId("status-line").filter({ hasText: "You're offline" }).waitFor();
    await ben.getByLabel("Your words").fill("A weekend by the sea.");
    await ben.getByTestId("entry-add").click();
    await ben.locator('[data-testid="entry"][data-waiting="true"]', { hasText: "A weekend by the sea." }).waitFor();
    await ben.getByTestId("status-line").filter({ hasText: "1 waiting to send." }).waitFor();
    assert.equal(await entries(ana, "A weekend by the sea.").count(), 0);
    await shot(ben, "offline-phone");

    await benContext.setOffline(false);
    await sentAndShownOnce(ben, "A weekend by the sea.");
    await sentAndShownOnce(ana, "A weekend by the sea.");
  });

  it("an entry written offline survives closing the tab before it was sent", async () => {
    await benContext.setOffline(true);
    await ben.getByTestId("status-line").filter({ hasText: "You're offline" }).waitFor();
    await ben.getByLabel("Your words").fill("Plant the tulips together.");
    await ben.getByTestId("entry-add").click();
    await ben.locator('[data-testid="entry"][data-waiting="true"]', { hasText: "Plant the tulips together." }).waitFor();
    await ben.close();

    await benContext.setOffline(false);
    ben = await benContext.newPage();
    watch(ben, "Ben");
    await ben.goto("/reading");
    await ben.getByTestId("section-wishes").click();
    await sentAndShownOnce(ben, "Plant the tulips together.");
    await sentAndShownOnce(ana, "Plant the tulips together.");
  });

  it("a reload keeps everything", async () => {
    await ana.reload();
    await ana.getByRole("heading", { name: "Tonight's reading" }).waitFor();
    await ana.getByTestId("section-wishes").click();
    await sentAndShownOnce(ana, "A weekend by the sea.");
    await ana.getByTestId("section-appreciations").click();
    await entries(ana, "and kept it warm").waitFor();
    await entries(ana, "Thank you for the walk.").waitFor();
    await ana.getByTestId("presence").filter({ hasText: "Ben is here" }).waitFor();

    await ben.reload();
    await go(ben, "Rituals");
    await ben.getByTestId("ritual-streak").filter({ hasText: "Streak: 1 time together" }).waitFor();
  });

  it("Ana finishes tonight's reading; Ben's tab shows it finished", async () => {
    await go(ana, "Reading");
    await go(ben, "Reading");
    await ana.getByTestId("section-wishes").click();
    await ana.getByTestId("reading-finish").click();
    await ben.getByTestId("reading-finished").waitFor();
    await entries(ben, "Plant the tulips together.").waitFor();
    await entries(ben, "and kept it warm").waitFor();
    await assertAccessible(ben);
  });

  it("Ana takes back her words from the finished reading; they leave Ben's tab", async () => {
    const hers = ana.locator('[data-testid="entry"][data-author="me"]', { hasText: "and kept it warm" });
    await hers.getByRole("button", { name: "Delete" }).click();
    await entries(ben, "Plant the tulips together.").waitFor();
    await ben.locator('[data-testid="entry"]', { hasText: "and kept it warm" }).waitFor({ state: "detached" });
    await ben.getByTestId("reading-finished").waitFor();
  });

  it("Ana keeps her growth log; the chart shows her weeks, and Ben sees none of it", async () => {
    await go(ana, "Growth");
    await ana.getByText("Only you see this page.").waitFor();
    await ana.getByLabel("How steady I felt").fill("5");
    await ana.getByLabel("How close I felt").fill("6");
    await ana.getByLabel("Which way I leaned (optional)").selectOption("secure");
    await ana.getByLabel("A note to yourself (optional)").fill("Asked for the walk instead of sulking.");
    await ana.getByTestId("growth-save").click();
    await ana.getByTestId("growth-chart").waitFor();
    await ana.getByTestId("growth-entries").filter({ hasText: "Steady 5/7 · Needs 4/7 · Close 6/7 · Steady" }).waitFor();
    // The chart's words for those who cannot see it.
    const described = await ana.locator("#chart-desc").textContent();
    assert.match(described ?? "", /how steady i felt 5\.0, how clearly i said what i need 4\.0, how close i felt 6\.0/);
    await ana.getByText("The numbers, week by week").click();
    await ana.getByRole("row").nth(1).filter({ hasText: "5.0" }).waitFor();
    await assertAccessible(ana);
    await shot(ana, "growth");

    await go(ben, "Growth");
    await ben.getByText("No entries yet.").waitFor();
  });

  it("Ana's settings stay set, and hiding her presence shows her away to Ben", async () => {
    await go(ana, "Settings");
    await ana.getByTestId("discreet").check();
    await ana.getByTestId("quiet-hours").check();
    await ana.getByLabel("From").fill("22:30");
    await ana.getByTestId("notifications-save").click();
    await ana.getByRole("status").filter({ hasText: "Saved." }).waitFor();
    await ana.reload();
    await ana.getByTestId("discreet").waitFor();
    assert.equal(await ana.getByTestId("discreet").isChecked(), true);
    assert.equal(await ana.getByLabel("From").inputValue(), "22:30");

    // A setting for the two of them reaches Ben's pause at once.
    await ana.getByLabel("A pause lasts, in minutes").fill("25");
    await ana.getByRole("button", { name: "Save for us both" }).click();
    await ana.getByRole("status").filter({ hasText: "Saved for you both." }).waitFor();
    await go(ben, "Home");
    await ben.getByText("How long, and a word for your partner").click();
    await ben.waitForFunction(() => document.querySelector<HTMLInputElement>("#pause-minutes")?.value === "25");

    await ana.getByTestId("share-presence").uncheck();
    await ben.getByTestId("presence").filter({ hasText: "Ana is away" }).waitFor();
    await ana.getByTestId("share-presence").check();
    await ben.getByTestId("presence").filter({ hasText: "Ana is here" }).waitFor();
    await assertAccessible(ana);
    await shot(ana, "settings");
  });

  it("Ana ends one session she left open elsewhere, then all the others", async () => {
    const first = await signedInElsewhere(browser, anaEmail);
    const second = await signedInElsewhere(browser, anaEmail);

    await ana.getByRole("link", { name: "Where you're signed in" }).click();
    await ana.getByTestId("session").nth(2).waitFor();
    assert.equal(await ana.getByTestId("session").count(), 3);
    await ana.getByTestId("trusted-device").nth(2).waitFor();
    assert.equal(await ana.getByTestId("trusted-device").count(), 3);
    await assertAccessible(ana);
    await shot(ana, "sessions");
    await ana
      .getByTestId("session")
      .filter({ hasText: "Another sign-in" })
      .first()
      .getByRole("button", { name: "End this session" })
      .click();
    // One of the two browsers is signed out; the other carries on.
    const ended = await Promise.race(
      [first, second].map(async (one) => {
        await one.page.getByText("This session has ended.").waitFor();
        return one;
      }),
    );
    const still = ended === first ? second : first;
    await ana.getByTestId("session").nth(2).waitFor({ state: "detached" });
    assert.equal(await ana.getByTestId("session").count(), 2);
    assert.equal(await still.page.getByTestId("pause-start").count(), 1);
    // The ended session's device is no longer trusted; Ana forgets the other browser's trust,
    // and it stays signed in.
    await ana.getByTestId("trusted-device").nth(2).waitFor({ state: "detached" });
    await ana
      .getByTestId("trusted-device")
      .filter({ hasText: "A web device" })
      .getByRole("button", { name: "Forget" })
      .click();
    await ana.getByTestId("trusted-device").nth(1).waitFor({ state: "detached" });
    assert.equal(await ana.getByTestId("trusted-device").filter({ hasText: "This browser" }).count(), 1);
    assert.equal(await still.page.getByTestId("pause-start").count(), 1);

    await ana.getByTestId("end-others").click();
    await still.page.getByText("This session has ended.").waitFor();
    await ana.getByTestId("end-others").waitFor({ state: "detached" });
    assert.equal(await ana.getByTestId("session").count(), 1);
    assert.equal(await ana.getByTestId("trusted-device").count(), 1);

    // Help is there signed out too.
    await still.page.getByTestId("help-now").click();
    await still.page.getByTestId("crisis-lines").waitFor();
    await first.context.close();
    await second.context.close();
  });

  it("the crisis lines are one tap away from every screen", async () => {
    for (const screen of ["Home", "Reading", "Repair", "Rituals", "Growth", "Settings"]) {
      await go(ben, screen);
      await ben.getByTestId("help-now").click();
      await ben.getByRole("heading", { name: "Help, now" }).waitFor();
      await ben.getByTestId("crisis-lines").getByRole("link", { name: "Call 988" }).waitFor();
      // The crisis screen took the place of the one it was opened from: Back passes it by.
      await ben.goBack();
      await ben.getByRole("heading", { level: 1 }).waitFor();
      assert.notEqual(new URL(ben.url()).pathname, "/crisis");
    }
    await ben.getByTestId("help-now").click();
    await ben.getByLabel("Where you are").selectOption("GB");
    await ben.getByTestId("crisis-lines").getByText("116 123").first().waitFor();
    await assertFitsWidth(ben);
    await assertAccessible(ben);
    await shot(ben, "crisis-phone");
    await ben.emulateMedia({ colorScheme: "dark" });
    await assertAccessible(ben);
    await ben.emulateMedia({ colorScheme: "light" });
  });

  it("Ben leaves through the safety exit; Ana is simply unlinked", async () => {
    await go(ben, "Settings");
    await ben.getByRole("link", { name: "Unlink, or leave safely" }).click();
    await ben.getByLabel("Your password").fill(PASSWORD);
    await ben.getByTestId("leave").click();
    await ben.getByText("You are signed out everywhere.").waitFor();
    await ben.getByRole("heading", { name: "Make your account" }).waitFor();
    await ana.getByRole("heading", { name: "Link up with your partner" }).waitFor();
    await ana.getByTestId("parted").filter({ hasText: "You are no longer linked." }).waitFor();
  });

  it("Ben comes back and invites Ana this time; later Ana unlinks them", async () => {
    await ben.getByRole("button", { name: "Sign in" }).click();
    await ben.getByLabel("Email").fill(benEmail);
    await ben.getByLabel("Password").fill(PASSWORD);
    await ben.getByRole("button", { name: "Sign in" }).click();
    await ben.getByRole("button", { name: "Make a code" }).click();
    const code = (await ben.getByTestId("invite-code").textContent())?.trim() ?? "";
    await ana.getByLabel("Your partner's code").fill(code);
    await ana.getByRole("button", { name: "Link us" }).click();
    await ana.getByRole("heading", { name: "Ana & Ben" }).waitFor();
    await ben.getByRole("heading", { name: "Ben & Ana" }).waitFor();
    // A new couple starts afresh: nothing of the old one's reading or rituals.
    await go(ben, "Rituals");
    await ben.getByText("No rituals yet.").waitFor();

    await go(ana, "Settings");
    await ana.getByRole("link", { name: "Unlink, or leave safely" }).click();
    await ana.getByLabel("Yes, unlink us").check();
    await assertAccessible(ana);
    await ana.getByRole("button", { name: "Unlink", exact: true }).click();
    await ana.getByRole("heading", { name: "Link up with your partner" }).waitFor();
    await ben.getByTestId("parted").filter({ hasText: "You are no longer linked." }).waitFor();
  });

  it("Ana signs out, and signs in again to her own growth log", async () => {
    await ana.getByRole("navigation", { name: "Sections" }).getByRole("link", { name: "Settings" }).click();
    await ana.getByRole("button", { name: "Sign out" }).click();
    await ana.getByRole("heading", { name: "Make your account" }).waitFor();
    await ana.reload();
    await ana.getByRole("button", { name: "Sign in" }).click();
    await ana.getByLabel("Email").fill(anaEmail);
    await ana.getByLabel("Password").fill(PASSWORD);
    await ana.getByRole("button", { name: "Sign in" }).click();
    await ana.getByRole("heading", { name: "Link up with your partner" }).waitFor();
    await ana.getByRole("navigation", { name: "Sections" }).getByRole("link", { name: "Growth" }).click();
    await ana.getByTestId("growth-entries").filter({ hasText: "Asked for the walk instead of sulking." }).waitFor();
  });

  it("no page was refused anything by its Content-Security-Policy", () => {
    assertNoCspViolations();
  });
});

/** Ana signs in in a browser of her own, on node 2. */
async function signedInElsewhere(browser: Browser, email: string): Promise<{ context: BrowserContext; page: Page }> {
  const opened = await tab(browser, env.url2(), { name: "Ana elsewhere" });
  await opened.page.getByRole("button", { name: "Sign in" }).click();
  await opened.page.getByLabel("Email").fill(email);
  await opened.page.getByLabel("Password").fill(PASSWORD);
  await opened.page.getByRole("button", { name: "Sign in" }).click();
  await opened.page.getByTestId("pause-start").waitFor();
  return opened;
}

/** Moves focus with the Tab key alone until it reaches the control, which must show it. */
async function tabTo(page: Page, testId: string, key: "Tab" | "Shift+Tab" = "Tab"): Promise<void> {
  for (let i = 0; i < 40; i++) {
    await page.keyboard.press(key);
    const there = await page.evaluate((id) => document.activeElement?.getAttribute("data-testid") === id, testId);
    if (there) {
      const outline = await page.evaluate(() => getComputedStyle(document.activeElement as Element).outlineStyle);
      assert.notEqual(outline, "none", "the focused control shows its focus");
      return;
    }
  }
  assert.fail(`Tab never reached ${testId}`);
}

/** The entry is on the page exactly once, sent (nothing of it waits any more). */
async function sentAndShownOnce(page: Page, text: string): Promise<void> {
  await page.locator('[data-testid="entry"]:not([data-waiting])', { hasText: text }).waitFor();
  await page.locator('[data-testid="entry"][data-waiting]', { hasText: text }).waitFor({ state: "detached" });
  assert.equal(await entries(page, text).count(), 1, `"${text}" shows once`);
}
