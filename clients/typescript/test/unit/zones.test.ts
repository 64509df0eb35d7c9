// A zone the browser reports is sent only when the server takes it.
import { expect, it } from "vitest";

import { isTimeZone } from "../../src/index.js";

it("takes the server's IANA zones and nothing else", () => {
  expect(isTimeZone("Europe/Berlin")).toBe(true);
  expect(isTimeZone("UTC")).toBe(true);
  expect(isTimeZone("Mars/Olympus")).toBe(false);
  expect(isTimeZone("europe/berlin")).toBe(false);
  expect(isTimeZone("localtime")).toBe(false);
});
