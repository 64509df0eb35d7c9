import { useEffect, useState } from "preact/hooks";
import type { Checkin, OpBody, Ritual } from "../client";
import { useSession } from "../context";
import { type Cadence, DAY_NAMES, cadenceText, lastOccurrence } from "../cadence";
import { WEEKDAYS, type Weekday, dayAndTime, localDate, longDate } from "../time";
import { ActionForm, Area, ErrorText, Field, Screen, useAction } from "../ui";

export function RitualsScreen() {
  const { view } = useSession();
  const rituals = (view.state?.rituals ?? []).filter((r) => r.status !== "archived");
  return (
    <Screen title="Rituals">
      <p class="muted">
        Small moments you keep on purpose: a morning coffee, a Sunday walk. Check in when you've
        done it; the streak counts the times you both did.
      </p>
      {rituals.length === 0 ? (
        <p>No rituals yet. Propose one below; it starts when your partner accepts.</p>
      ) : (
        <ul class="entries" aria-label="Your rituals">
          {rituals.map((r) => (
            <RitualCard key={r.id} ritual={r} />
          ))}
        </ul>
      )}
      <ProposeRitual />
    </Screen>
  );
}

function RitualCard({ ritual }: { ritual: Ritual }) {
  const { session, view } = useSession();
  const me = view.user?.id;
  const partner = session.partnerName();
  const accept = useAction(() => session.send("ritual.accept", { ritual_id: ritual.id }));
  const archive = useAction(() => session.send("ritual.archive", { ritual_id: ritual.id }));
  return (
    <li class="card" data-testid="ritual" aria-labelledby={`ritual-${ritual.id}`}>
      <h2 id={`ritual-${ritual.id}`}>
        {ritual.title}
      </h2>
      <p>{cadenceText(ritual.cadence, ritual.at)}</p>
      {ritual.description && <p class="muted">{ritual.description}</p>}
      {ritual.status === "proposed" ? (
        ritual.proposed_by === me ? (
          <p data-testid="ritual-state">Proposed by you. Waiting for {partner} to accept.</p>
        ) : (
          <>
            <p data-testid="ritual-state">{partner} proposed this.</p>
            <button type="button" disabled={accept.busy} onClick={() => void accept.go()} data-testid="ritual-accept">
              Accept
            </button>
          </>
        )
      ) : (
        <>
          <p data-testid="ritual-state">
            <strong data-testid="ritual-streak">
              Streak: {ritual.streak} {ritual.streak === 1 ? "time" : "times"} together
            </strong>
            {ritual.next_at ? ` · Next: ${dayAndTime(ritual.next_at)}` : ""}
          </p>
          <CheckIn ritual={ritual} />
          <button type="button" class="link" disabled={archive.busy} onClick={() => void archive.go()}>
            Stop this ritual
          </button>
        </>
      )}
      <ErrorText error={accept.error ?? archive.error} />
    </li>
  );
}

function CheckIn({ ritual }: { ritual: Ritual }) {
  const { session, view } = useSession();
  const me = view.user?.id;
  const date = lastOccurrence(ritual.cadence, ritual.timezone);
  const [checkins, setCheckins] = useState<Checkin[] | null>(null);
  const head = view.state?.head;
  useEffect(() => {
    let live = true;
    session.api
      .request<{ checkins: Checkin[] }>(
        "GET",
        `/v1/couple/rituals/${ritual.id}/checkins?from=${date}&to=${date}`,
      )
      .then((page) => live && setCheckins(page.checkins))
      .catch(() => live && setCheckins(null));
    return () => {
      live = false;
    };
  }, [ritual.id, date, head]);
  const check = useAction(() => session.send("ritual.checkin", { ritual_id: ritual.id, date }));
  const mine = checkins?.some((c) => c.user_id === me) ?? false;
  const theirs = checkins?.some((c) => c.user_id !== me) ?? false;
  const day = date === localDate(ritual.timezone) ? "today" : longDate(date);
  return (
    <div>
      <p data-testid="ritual-checkins">
        {mine ? `You checked in for ${day}.` : `You haven't checked in for ${day}.`}{" "}
        {theirs ? `${session.partnerName()} did too.` : `${session.partnerName()} hasn't yet.`}
      </p>
      {!mine && (
        <button type="button" disabled={check.busy} onClick={() => void check.go()} data-testid="ritual-checkin">
          We did it: check in for {day}
        </button>
      )}
      <ErrorText error={check.error} />
    </div>
  );
}

function ProposeRitual() {
  const { session } = useSession();
  const [title, setTitle] = useState("");
  const [description, setDescription] = useState("");
  const [every, setEvery] = useState<"day" | "week" | "month">("day");
  const [days, setDays] = useState<Weekday[]>(["sun"]);
  const [monthDay, setMonthDay] = useState("1");
  const [at, setAt] = useState("08:00");
  const [remind, setRemind] = useState("15");
  const propose = useAction(async () => {
    const cadence: Cadence =
      every === "day"
        ? { every }
        : every === "week"
          ? { every, days: WEEKDAYS.filter((d) => days.includes(d)) }
          : { every, day: Number(monthDay) };
    const body: OpBody<"ritual.propose"> = {
      title: title.trim(),
      cadence,
      at,
      remind_minutes_before: Number(remind),
    };
    if (description.trim()) body.description = description.trim();
    await session.send("ritual.propose", body);
    setTitle("");
    setDescription("");
  });
  return (
    <ActionForm
      title="Propose a ritual"
      headingId="propose-heading"
      action={propose}
      submit="Propose it"
      submitTestId="ritual-propose"
    >
      <Field
        id="ritual-title"
        label="What"
        hint="e.g. Morning coffee together. Up to 80 characters."
        required
        maxLength={80}
        value={title}
        onInput={(e) => setTitle(e.currentTarget.value)}
      />
      <Area
        id="ritual-description"
        label="A few words about it (optional)"
        maxLength={1000}
        value={description}
        onInput={(e) => setDescription(e.currentTarget.value)}
      />
      <fieldset>
        <legend>How often</legend>
        {(["day", "week", "month"] as const).map((e) => (
          <label class="check" key={e}>
            <input type="radio" name="every" checked={every === e} onChange={() => setEvery(e)} />
            {e === "day" ? "Every day" : e === "week" ? "On some days of the week" : "Once a month"}
          </label>
        ))}
      </fieldset>
      {every === "week" && (
        <fieldset>
          <legend>Which days</legend>
          {WEEKDAYS.map((d) => (
            <label class="check" key={d}>
              <input
                type="checkbox"
                checked={days.includes(d)}
                onChange={(e) =>
                  setDays(e.currentTarget.checked ? [...days, d] : days.filter((x) => x !== d))
                }
              />
              {DAY_NAMES[d]}
            </label>
          ))}
        </fieldset>
      )}
      {every === "month" && (
        <Field
          id="ritual-month-day"
          label="Day of the month"
          hint="1 to 28, so every month has it."
          type="number"
          min={1}
          max={28}
          value={monthDay}
          onInput={(e) => setMonthDay(e.currentTarget.value)}
        />
      )}
      <Field id="ritual-at" label="At" type="time" required value={at} onInput={(e) => setAt(e.currentTarget.value)} />
      <Field
        id="ritual-remind"
        label="Remind us this many minutes before"
        type="number"
        min={0}
        max={1440}
        value={remind}
        onInput={(e) => setRemind(e.currentTarget.value)}
      />
    </ActionForm>
  );
}
