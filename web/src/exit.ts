// Quick exit, as domestic-violence sites have it: one button on the crisis and leave screens,
// or Esc twice anywhere, and the page is blank at once and replaced by an ordinary site; Back
// does not bring Twofold's screen back. It does not sign out: that takes a moment she may not
// have, and the app looks the same signed in as it did before.

/** Somewhere nobody would look twice at. */
export const NEUTRAL_URL = "https://www.bbc.com/weather";

/** Two presses of Esc this close together (ms) are a quick exit. */
export const DOUBLE_ESCAPE_MS = 1000;

export function quickExit(): void {
  // Blank first, before anything that could take a moment: nothing of the screen stays in view.
  document.title = "Weather";
  document.body.replaceChildren();
  // The entry this page had now says only the app's start; the neutral site then takes its
  // place (replace, not a new entry), so Back leads to wherever she was before Twofold.
  history.replaceState(null, "", "/");
  window.location.replace(NEUTRAL_URL);
}

/** Whether a press of Esc at `now` follows one at `previous` closely enough (pure). */
export function isDoubleEscape(previous: number | null, now: number): boolean {
  return previous !== null && now - previous <= DOUBLE_ESCAPE_MS;
}

/** Esc twice within a second, anywhere in the app, is a quick exit. */
export function listenForQuickExit(): void {
  let previous: number | null = null;
  window.addEventListener(
    "keydown",
    (e) => {
      if (e.key !== "Escape" || e.repeat) return;
      const now = performance.now();
      if (isDoubleEscape(previous, now)) quickExit();
      previous = now;
    },
    true,
  );
}
