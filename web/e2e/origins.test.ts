// The socket opens for the app's own origin and the allow-list, and for no other page.
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import type { Browser, Page } from "playwright-core";
import { env, launch } from "./support.js";

type Outcome = "open" | "refused" | "timeout";

/** Runs in the page: tries the socket and says whether it opened. */
function tryOpen(url: string): Promise<Outcome> {
  return new Promise((resolve) => {
    const ws = new WebSocket(url);
    const timer = setTimeout(() => resolve("timeout"), 10_000);
    ws.onopen = () => {
      clearTimeout(timer);
      ws.close();
      resolve("open");
    };
    ws.onclose = () => {
      clearTimeout(timer);
      resolve("refused");
    };
  });
}

/** Runs in the page: whether a cross-origin call may be read. */
async function tryFetch(url: string): Promise<"read" | "blocked"> {
  try {
    await (await fetch(url)).json();
    return "read";
  } catch {
    return "blocked";
  }
}

describe("which pages may open the socket", () => {
  let browser: Browser;
  const socket = () => `${env.url().replace(/^http/, "ws")}/v1/sync`;
  const crisis = () => `${env.url()}/v1/resources/crisis?country=US`;

  before(async () => {
    browser = await launch();
  });
  after(async () => {
    await browser?.close();
  });

  /** A page whose origin is `origin`: its document is made up here, never fetched. */
  async function pageOn(origin: string): Promise<Page> {
    const page = await (await browser.newContext()).newPage();
    await page.route(`${origin}/**`, (route) =>
      route.fulfill({ contentType: "text/html", body: "<!doctype html><title>elsewhere</title><p>elsewhere</p>" }),
    );
    await page.goto(`${origin}/`);
    return page;
  }

  it("the app's own page opens it", async () => {
    const page = await (await browser.newContext()).newPage();
    await page.goto(`${env.url()}/crisis`);
    assert.equal(await page.evaluate(tryOpen, socket()), "open");
  });

  it("a page on an allowed origin opens it, and may read the API", async () => {
    const page = await pageOn(env.allowedOrigin());
    assert.equal(await page.evaluate(tryOpen, socket()), "open");
    assert.equal(await page.evaluate(tryFetch, crisis()), "read");
  });

  it("a page on any other origin is refused, and may not read the API", async () => {
    const page = await pageOn(env.otherOrigin());
    assert.equal(await page.evaluate(tryOpen, socket()), "refused");
    assert.equal(await page.evaluate(tryFetch, crisis()), "blocked");
  });
});
