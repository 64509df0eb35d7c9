import { useEffect, useState } from "preact/hooks";
import type { OpBody, Repair, RepairStep, RepairTemplate } from "../client";
import { useSession } from "../context";
import { clock } from "../time";
import { ActionForm, Area, ErrorText, Field, Screen, useAction, useOptimistic } from "../ui";

export function RepairScreen() {
  const { view } = useSession();
  const repairs = (view.state?.repairs ?? []).filter((r) => r.state === "open");
  const [chosen, setChosen] = useState<string | null>(null);
  const current = repairs.find((r) => r.id === chosen) ?? repairs[0] ?? null;
  return (
    <Screen title="Repair">
      <p class="muted">
        After a rupture, step through it together, at your own pace. Each of you ticks a step when
        it's done for you; you both see where the other is.
      </p>
      {repairs.length > 1 && (
        <div class="field">
          <label for="repair-choose">Open repairs</label>
          <select id="repair-choose" value={current?.id} onChange={(e) => setChosen(e.currentTarget.value)}>
            {repairs.map((r) => (
              <option key={r.id} value={r.id}>
                {r.title}
              </option>
            ))}
          </select>
        </div>
      )}
      {current ? <RepairView key={current.id} repair={current} /> : <StartRepair />}
    </Screen>
  );
}

function StartRepair() {
  const { session, view } = useSession();
  const [templates, setTemplates] = useState<RepairTemplate[] | null>(null);
  const [template, setTemplate] = useState<RepairTemplate["key"]>("repair");
  const [title, setTitle] = useState("");
  const load = useAction(async () => {
    setTemplates(await session.api.request<RepairTemplate[]>("GET", "/v1/repair-templates"));
  });
  useEffect(() => {
    void load.go();
  }, []);
  const start = useAction(() => {
    const body: OpBody<"repair.start"> = { template };
    if (title.trim()) body.title = title.trim();
    const pause = view.state?.pause;
    if (pause) body.pause_id = pause.id;
    return session.send("repair.start", body);
  });
  return (
    <ActionForm
      title="Start a repair"
      headingId="start-repair-heading"
      action={start}
      submit="Start the repair"
      submitTestId="repair-start"
      ready={templates != null}
    >
      <ErrorText error={load.error} />
      {templates && (
        <fieldset>
          <legend>Which way through</legend>
          {templates.map((t) => (
            <label class="check" key={t.key}>
              <input
                type="radio"
                name="template"
                value={t.key}
                checked={template === t.key}
                onChange={() => setTemplate(t.key)}
              />
              <span>
                {t.title} <span class="muted">({t.steps.map((s) => s.title).join(", ")})</span>
              </span>
            </label>
          ))}
        </fieldset>
      )}
      <Field
        id="repair-title"
        label="What it's about (optional)"
        hint="A few words you both recognise. Up to 80 characters."
        maxLength={80}
        value={title}
        onInput={(e) => setTitle(e.currentTarget.value)}
      />
    </ActionForm>
  );
}

function RepairView({ repair }: { repair: Repair }) {
  const { session } = useSession();
  const finish = useAction(() => session.send("repair.finish", { repair_id: repair.id }));
  const abandon = useAction(() => session.send("repair.abandon", { repair_id: repair.id }));
  const both = repair.steps.filter((s) => Object.keys(s.done).length >= 2).length;
  return (
    <section aria-labelledby="repair-heading" data-testid="repair">
      <h2 id="repair-heading">{repair.title}</h2>
      <p class="muted" role="status">
        {both} of {repair.steps.length} steps done by you both.
      </p>
      <ol class="steps">
        {repair.steps.map((step, i) => (
          <StepItem key={step.key} repair={repair} step={step} n={i + 1} />
        ))}
      </ol>
      <div class="row">
        <button type="button" disabled={finish.busy} onClick={() => void finish.go()} data-testid="repair-finish">
          We're through it
        </button>
        <button type="button" class="quiet" disabled={abandon.busy} onClick={() => void abandon.go()}>
          Set it aside
        </button>
      </div>
      <ErrorText error={finish.error ?? abandon.error} />
    </section>
  );
}

function StepItem({ repair, step, n }: { repair: Repair; step: RepairStep; n: number }) {
  const { session, view } = useSession();
  const me = view.user?.id ?? "";
  const partnerId = Object.keys(step.done)
    .concat(Object.keys(step.notes))
    .find((id) => id !== me);
  const partnerName = session.partnerName();
  const [myDone, showDone, unshowDone] = useOptimistic(me in step.done);
  const partnerDoneAt = partnerId ? step.done[partnerId] : undefined;
  const partnerNote = partnerId ? step.notes[partnerId] : undefined;
  const [note, setNote] = useState(step.notes[me] ?? "");
  const tick = useAction(async (done: boolean) => {
    showDone(done);
    try {
      await session.send("repair.step.set", { repair_id: repair.id, step: step.key, done });
    } catch (error) {
      unshowDone();
      throw error;
    }
  });
  const saveNote = useAction(() =>
    session.send("repair.step.set", {
      repair_id: repair.id,
      step: step.key,
      done: myDone,
      note: note.trim() ? note.trim() : null,
    }),
  );
  const id = `step-${step.key}`;
  return (
    <li class="step" data-testid={id} aria-labelledby={`${id}-title`}>
      <h3 id={`${id}-title`}>
        {n}. {step.title}
      </h3>
      <p>{step.prompt}</p>
      <div class="ticks">
        <label class="check">
          <input
            type="checkbox"
            checked={myDone}
            onChange={(e) => void tick.go(e.currentTarget.checked)}
            data-testid={`${id}-tick`}
          />
          Done, for me
        </label>
        <span data-testid={`${id}-partner`}>
          {partnerDoneAt ? `${partnerName}: done at ${clock(partnerDoneAt)}` : `${partnerName}: not yet`}
        </span>
      </div>
      {partnerNote && (
        <p data-testid={`${id}-partner-note`}>
          <strong>{partnerName} wrote:</strong> {partnerNote}
        </p>
      )}
      <form
        onSubmit={(e) => {
          e.preventDefault();
          void saveNote.go();
        }}
      >
        <Area
          id={`${id}-note`}
          label="Your note (optional)"
          maxLength={1000}
          value={note}
          onInput={(e) => setNote(e.currentTarget.value)}
        />
        <button type="submit" class="quiet" disabled={saveNote.busy}>
          Save note
        </button>
      </form>
      <ErrorText error={tick.error ?? saveNote.error} />
    </li>
  );
}
