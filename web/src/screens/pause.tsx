import { useState } from "preact/hooks";
import type { OpBody, Pause } from "../client";
import { useSession } from "../context";
import type { CallBack } from "../session";
import { countdown, spokenDuration } from "../time";
import { Area, ErrorText, useAction, useNow } from "../ui";

const MAX_MINUTES = 240;
const MIN_MINUTES = 20;

/** The pause: start it, see it counting down, acknowledge, extend, end; then come back. */
export function PausePanel() {
  const { view } = useSession();
  const now = useNow(1000);
  const pause = view.state?.pause ?? null;
  if (pause && pause.state === "active") {
    // Never more than the pause's whole length, whatever this device's clock says.
    const whole = Date.parse(pause.ends_at) - Date.parse(pause.started_at);
    const left = Math.min(Date.parse(pause.ends_at) - now, whole);
    if (left > 0) return <LivePause pause={pause} left={left} />;
    return <CallBackCard callback={{ pauseId: pause.id, how: "time", endedBy: null }} />;
  }
  if (view.callback) return <CallBackCard callback={view.callback} />;
  // Started afresh when the couple's default length changes, so it offers the new one.
  return <StartPause key={view.couple?.settings.default_pause_minutes} />;
}

function StartPause() {
  const { session, view } = useSession();
  const fallback = view.couple?.settings.default_pause_minutes ?? MIN_MINUTES;
  const [minutes, setMinutes] = useState(String(fallback));
  const [note, setNote] = useState("");
  const start = useAction(() => {
    const body: OpBody<"pause.start"> = {};
    const m = Number(minutes);
    if (minutes && m !== fallback) body.minutes = m;
    if (note.trim()) body.note = note.trim();
    return session.send("pause.start", body);
  });
  return (
    <section aria-labelledby="pause-heading" class="card">
      <h2 id="pause-heading">Need a pause?</h2>
      <p class="muted">
        When things run hot, take a break. Your partner is told at once, and you both come back
        when it ends.
      </p>
      <form
        onSubmit={(e) => {
          e.preventDefault();
          void start.go();
        }}
      >
        <button type="submit" class="pause-start" disabled={start.busy} data-testid="pause-start">
          Take a pause
        </button>
        <details>
          <summary>How long, and a word for your partner (optional)</summary>
          <div class="field">
            <label for="pause-minutes">Minutes</label>
            <input
              id="pause-minutes"
              type="number"
              min={MIN_MINUTES}
              max={MAX_MINUTES}
              step={5}
              value={minutes}
              onInput={(e) => setMinutes(e.currentTarget.value)}
            />
          </div>
          <Area
            id="pause-note"
            label="A note"
            hint="Up to 280 characters, e.g. “I need a break; I love you.”"
            maxLength={280}
            value={note}
            onInput={(e) => setNote(e.currentTarget.value)}
          />
        </details>
      </form>
      <ErrorText error={start.error} />
    </section>
  );
}

function LivePause({ pause, left }: { pause: Pause; left: number }) {
  const { session, view } = useSession();
  const mine = pause.started_by === view.user?.id;
  const who = mine ? "You" : session.partnerName();
  const ack = useAction(() => session.send("pause.ack", { pause_id: pause.id }));
  const extend = useAction((minutes: number) =>
    session.send("pause.extend", { pause_id: pause.id, minutes }),
  );
  const end = useAction(() => session.send("pause.end", { pause_id: pause.id }));
  const room = MAX_MINUTES - pause.minutes;
  return (
    <section class="pause-live" aria-labelledby="pause-live-heading" data-testid="pause-active">
      <h2 id="pause-live-heading">{mine ? "You asked for a pause" : `${who} asked for a pause`}</h2>
      <p
        class="countdown"
        role="timer"
        aria-label={`${spokenDuration(left)} left`}
        data-testid="pause-countdown"
      >
        {countdown(left)}
      </p>
      {pause.note && <p data-testid="pause-note">“{pause.note}”</p>}
      <p data-testid="pause-ack-state">
        {pause.acknowledged_at
          ? mine
            ? `${session.partnerName()} has seen it and is giving you space.`
            : "You've let them know you've seen it."
          : mine
            ? `Waiting for ${session.partnerName()} to see it.`
            : "Take a breath. Let them know you've seen it."}
      </p>
      <div class="row">
        {!mine && !pause.acknowledged_at && (
          <button type="button" disabled={ack.busy} onClick={() => void ack.go()} data-testid="pause-ack">
            I see it. Take your time
          </button>
        )}
        {room >= 10 && (
          <button
            type="button"
            class="quiet"
            disabled={extend.busy}
            onClick={() => void extend.go(10)}
            data-testid="pause-extend"
          >
            10 more minutes
          </button>
        )}
        {mine && (
          <button type="button" class="quiet" disabled={end.busy} onClick={() => void end.go()} data-testid="pause-end">
            I'm ready to come back
          </button>
        )}
      </div>
      <p>
        {pause.minutes} minutes in all{room < 10 ? ", the longest a pause can be" : ""}.
      </p>
      <ErrorText error={ack.error ?? extend.error ?? end.error} />
    </section>
  );
}

function CallBackCard({ callback }: { callback: CallBack }) {
  const { session } = useSession();
  const byWhom =
    callback.how === "time"
      ? "The time you set is up."
      : `${session.nameOf(callback.endedBy)} ${callback.endedBy === session.me?.id ? "are" : "is"} ready to come back.`;
  return (
    <section class="card callback" aria-labelledby="callback-heading" data-testid="pause-callback" role="status">
      <h2 id="callback-heading">The pause is over</h2>
      <p>{byWhom}</p>
      <p>
        Come back to each other when you're both ready: sit together, speak one at a time, and
        start with what you heard, not what you meant.
      </p>
      <button type="button" onClick={() => session.dismissCallBack()}>
        We're back
      </button>
    </section>
  );
}
