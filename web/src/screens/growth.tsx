import { useEffect, useState } from "preact/hooks";
import type { GrowthLog } from "../client";
import { useSession } from "../context";
import { addDays, localDate, longDate } from "../time";
import { ActionForm, Area, ErrorText, Screen, useAction } from "../ui";
import { WeeklyChart } from "./chart";

export const MEASURES = [
  { key: "regulation", label: "How steady I felt", low: "flooded", high: "steady" },
  { key: "needs", label: "How clearly I said what I need", low: "not at all", high: "clearly" },
  { key: "closeness", label: "How close I felt", low: "far apart", high: "close" },
] as const;

type Measure = (typeof MEASURES)[number]["key"];

const LEANINGS = {
  anxious: "Holding on tight",
  avoidant: "Pulling away",
  secure: "Steady",
} as const;

export function GrowthScreen() {
  const { session, view } = useSession();
  const [log, setLog] = useState<GrowthLog | null>(null);
  const zone = view.user?.timezone ?? "UTC";
  const load = useAction(async () => {
    const to = localDate(zone);
    const from = addDays(to, -7 * 12);
    setLog(await session.api.request<GrowthLog>("GET", `/v1/me/growth?from=${from}&to=${to}`));
  });
  useEffect(() => {
    void load.go();
  }, []);
  return (
    <Screen title="My growth">
      <p class="notice">Only you see this page. Nothing here is shared with your partner.</p>
      <GrowthForm onSaved={() => void load.go()} />
      <ErrorText error={load.error} />
      {log && (
        <>
          <section aria-labelledby="trajectory-heading">
            <h2 id="trajectory-heading">Week by week</h2>
            {log.weekly.length === 0 ? (
              <p class="muted">Your weeks will show here once you've written a few entries.</p>
            ) : (
              <WeeklyChart weeks={log.weekly} measures={MEASURES} />
            )}
          </section>
          <section aria-labelledby="entries-heading">
            <h2 id="entries-heading">Recent entries</h2>
            {log.entries.length === 0 ? (
              <p class="muted">No entries yet.</p>
            ) : (
              <ul class="entries" data-testid="growth-entries">
                {[...log.entries].reverse().slice(0, 10).map((e) => (
                  <li class="entry mine" key={e.id}>
                    <div class="who">{longDate(e.local_date)}</div>
                    <p class="text">
                      Steady {e.regulation}/7 · Needs {e.needs}/7 · Close {e.closeness}/7
                      {e.leaning ? ` · ${LEANINGS[e.leaning]}` : ""}
                    </p>
                    {e.note && <p class="text">{e.note}</p>}
                  </li>
                ))}
              </ul>
            )}
          </section>
        </>
      )}
    </Screen>
  );
}

function GrowthForm({ onSaved }: { onSaved: () => void }) {
  const { session } = useSession();
  const [scores, setScores] = useState<Record<Measure, number>>({ regulation: 4, needs: 4, closeness: 4 });
  const [leaning, setLeaning] = useState("");
  const [note, setNote] = useState("");
  const [saved, setSaved] = useState(false);
  const save = useAction(async () => {
    setSaved(false);
    const body: Record<string, unknown> = { ...scores };
    if (leaning) body.leaning = leaning;
    if (note.trim()) body.note = note.trim();
    await session.api.request("POST", "/v1/me/growth", body);
    setNote("");
    setSaved(true);
    onSaved();
  });
  return (
    <ActionForm
      title="How was today?"
      headingId="growth-form-heading"
      action={save}
      submit="Save today's entry"
      submitTestId="growth-save"
      notice={saved && "Saved."}
    >
      {MEASURES.map((m) => (
        <div class="field" key={m.key}>
          <label for={`growth-${m.key}`}>
            {m.label}: <output for={`growth-${m.key}`}>{scores[m.key]}</output> of 7
          </label>
          <input
            id={`growth-${m.key}`}
            type="range"
            min={1}
            max={7}
            step={1}
            value={scores[m.key]}
            aria-valuetext={`${scores[m.key]} of 7, from 1 ${m.low} to 7 ${m.high}`}
            onInput={(e) => setScores({ ...scores, [m.key]: Number(e.currentTarget.value) })}
          />
          <span class="hint" aria-hidden="true">
            1 {m.low} · 7 {m.high}
          </span>
        </div>
      ))}
      <div class="field">
        <label for="growth-leaning">Which way I leaned (optional)</label>
        <select id="growth-leaning" value={leaning} onChange={(e) => setLeaning(e.currentTarget.value)}>
          <option value="">Not saying</option>
          {Object.entries(LEANINGS).map(([key, text]) => (
            <option key={key} value={key}>
              {text}
            </option>
          ))}
        </select>
      </div>
      <Area
        id="growth-note"
        label="A note to yourself (optional)"
        maxLength={1000}
        value={note}
        onInput={(e) => setNote(e.currentTarget.value)}
      />
    </ActionForm>
  );
}
