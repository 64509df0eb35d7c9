// What a refused call says to a person: kept apart from the components so it can be tested
// without a page.
import { ApiError, OpError } from "./client";

/** What went wrong, in words a person can act on. */
export function describe(error: unknown): string {
  if (error instanceof ApiError) {
    const problem = error.problem as { detail?: string; title?: string; errors?: { field: string; message: string }[] };
    const fields = problem.errors?.map((e) => e.message).join(" ") ?? "";
    if (error.code === "email_code_required") {
      // The detail says a mailed code can prove the email; the wait may be most of an hour.
      const minutes = error.retryAfter ? Math.max(1, Math.round(error.retryAfter / 60)) : null;
      const wait = minutes ? ` Or try again in about ${minutes} minute${minutes === 1 ? "" : "s"}.` : "";
      return `${problem.detail ?? "Too many attempts."}${wait}`;
    }
    if (error.status === 429 || error.status === 503) {
      const wait = error.retryAfter ? ` Try again in ${error.retryAfter} s.` : " Try again in a moment.";
      return `${problem.detail ?? "Busy right now."}${wait}`;
    }
    return [problem.detail ?? problem.title ?? "Something went wrong.", fields].filter(Boolean).join(" ");
  }
  if (error instanceof OpError) return error.detail;
  if (error instanceof TypeError) return "Twofold can't be reached. Check your connection.";
  return error instanceof Error ? error.message : "Something went wrong.";
}
