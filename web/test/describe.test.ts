import { describe as group, expect, it } from "vitest";
import { ApiError } from "../src/client";
import { describe } from "../src/problems";

const detail =
  "Too many sign-in attempts for this email, or from this network. A code can be mailed to the email to prove it is yours.";

function refused(code: "email_code_required" | "rate_limited", retryAfter?: number): ApiError {
  return new ApiError(429, { type: "about:blank", status: 429, title: "Too many attempts", detail, code }, retryAfter);
}

group("what a refused sign-in says", () => {
  it("says a mailed code can prove the email, and how long a wait would be, in minutes", () => {
    expect(describe(refused("email_code_required", 3412))).toBe(`${detail} Or try again in about 57 minutes.`);
    expect(describe(refused("email_code_required", 20))).toBe(`${detail} Or try again in about 1 minute.`);
    expect(describe(refused("email_code_required"))).toBe(detail);
  });

  it("says how many seconds to wait when the limit is only a burst", () => {
    expect(describe(refused("rate_limited", 7))).toBe(`${detail} Try again in 7 s.`);
  });
});
