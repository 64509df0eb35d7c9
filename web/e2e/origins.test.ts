// The socket opens for the app's own origin and the allow-list, and for no other page.
import assert from "node:assert/strict";
import { type Server, createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { after, before, describe, it } from "node:test";
import type { Browser, Page } from "playwright-core";
import { assertNoCspViolations, env, launch, newContext } from "./support.js";

/** A page of another origin, served for real on loopback: the browser treats it as it would
 * any site (a made-up page on a made-up host would be kept off loopback by the browser
 * itself, which would hide what the server decides). Port 0: any free one. */
function servePage(port: number): Promise<Server> {
  const server = createServer((_, answer) => {
    answer.writeHead(200, { "content-type": "text/html; charset=utf-8" });
    answer.end("<!doctype html><title>Another site</title><p>Another site</p>");
  });
  return new Promise((resolve) => server.listen(port, "127.0.0.1", () => resolve(server)));
}

function originOf(server: Server): string {
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

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

  let allowed: Server;
  let other: Server;

  before(async () => {
    browser = await launch();
    allowed = await servePage(Number(new URL(env.allowedOrigin()).port));
    other = await servePage(0);
    assert.equal(originOf(allowed), env.allowedOrigin());
  });
  after(async () => {
    await browser?.close();
    allowed?.close();
    other?.close();
  });

  async function pageOn(origin: string): Promise<Page> {
    const page = await (await newContext(browser)).newPage();
    await page.goto(`${origin}/`);
    return page;
  }

  it("the app's own page opens it, under its Content-Security-Policy", async () => {
    const page = await (await newContext(browser)).newPage();
    await page.goto(`${env.url()}/crisis`);
    assert.equal(await page.evaluate(tryOpen, socket()), "open");
    // connect-src 'self' covers the socket (ws: on http, wss: on https, as CSP3 has it).
    assert.match((await page.request.get(`${env.url()}/crisis`)).headers()["content-security-policy"] ?? "", /connect-src 'self'/);
  });

  it("a page on an allowed origin opens it, and may read the API", async () => {
    const page = await pageOn(env.allowedOrigin());
    assert.equal(await page.evaluate(tryOpen, socket()), "open");
    assert.equal(await page.evaluate(tryFetch, crisis()), "read");
  });

  it("a page on any other origin is refused, and may not read the API", async () => {
    const page = await pageOn(originOf(other));
    assert.equal(await page.evaluate(tryOpen, socket()), "refused");
    assert.equal(await page.evaluate(tryFetch, crisis()), "blocked");
  });

  it("the API docs render from the node alone, under their own policy", async () => {
    const page = await (await newContext(browser)).newPage();
    await page.goto(`${env.url()}/schema/swagger`);
    await page.getByText("accounts and sessions").first().waitFor();
    await page.locator(".opblock").first().click();
    await page.locator(".opblock-body").first().waitFor();
  });

  it("no page was refused anything by its Content-Security-Policy", () => {
    assertNoCspViolations();
  });
});
