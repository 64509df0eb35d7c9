import { useState } from "preact/hooks";
import type { Entry, OpBody, Reading, Section } from "../client";
import { useSession } from "../context";
import { clock, longDate } from "../time";
import { Area, ErrorText, Screen, useAction } from "../ui";

interface SectionText {
  name: Section;
  title: string;
  prompt: string;
}

// The five sections of the Daily Temperature Reading, in their order, in our own words.
export const SECTIONS: readonly SectionText[] = [
  {
    name: "appreciations",
    title: "Appreciations",
    prompt: "Something your partner did, or is, that you're glad of today. The more specific, the better.",
  },
  {
    name: "new_information",
    title: "New information",
    prompt: "What's new with you: plans, news, how the day went. Small things count; they keep you in step.",
  },
  {
    name: "puzzles",
    title: "Puzzles",
    prompt: "Something you've wondered about. Ask rather than guess.",
  },
  {
    name: "concerns",
    title: "Concerns with recommendations",
    prompt: "Something that bothers you, said without blame, and what would help.",
  },
  {
    name: "wishes",
    title: "Wishes, hopes and dreams",
    prompt: "Something you'd love, for tomorrow or for years from now.",
  },
];

export function ReadingScreen() {
  const { view } = useSession();
  const reading = view.state?.reading ?? null;
  return (
    <Screen title="Tonight's reading">
      {reading == null ? (
        <StartReading />
      ) : reading.finished_at ? (
        <FinishedReading reading={reading} />
      ) : (
        <OpenReading reading={reading} />
      )}
    </Screen>
  );
}

function StartReading() {
  const { session } = useSession();
  const start = useAction(() => session.send("reading.start", {}));
  return (
    <section class="card">
      <p>
        Ten quiet minutes, five short sections: what you appreciate, what's new, what puzzles you,
        a concern with what would help, and a wish. You each write; you both see it as it comes.
      </p>
      <ErrorText error={start.error} />
      <button type="button" disabled={start.busy} onClick={() => void start.go()} data-testid="reading-start">
        Start tonight's reading
      </button>
    </section>
  );
}

function OpenReading({ reading }: { reading: Reading }) {
  const { session, view } = useSession();
  const me = view.user?.id ?? "";
  const firstOpen = SECTIONS.findIndex(
    (s) => !reading.sections.find((x) => x.name === s.name)?.done_by.includes(me),
  );
  const [index, setIndex] = useState(firstOpen < 0 ? SECTIONS.length - 1 : firstOpen);
  const section = SECTIONS[index] ?? SECTIONS[0]!;
  const finish = useAction(() => session.send("reading.finish", { reading_id: reading.id }));
  return (
    <>
      <p class="muted">{longDate(reading.local_date)}</p>
      <nav aria-label="Sections of the reading">
        <ol class="sections">
          {SECTIONS.map((s, i) => {
            const done = reading.sections.find((x) => x.name === s.name)?.done_by ?? [];
            const count = reading.entries.filter((e) => e.section === s.name).length;
            return (
              <li key={s.name}>
                <button
                  type="button"
                  aria-current={i === index ? "step" : undefined}
                  onClick={() => setIndex(i)}
                  data-testid={`section-${s.name}`}
                >
                  {i + 1}. {s.title}
                  {count ? ` (${count})` : ""}
                  {done.length >= 2 ? " ✓" : ""}
                  <span class="visually-hidden">{done.length >= 2 ? ", both done" : ""}</span>
                </button>
              </li>
            );
          })}
        </ol>
      </nav>
      <SectionView key={section.name} reading={reading} section={section} />
      <div class="row">
        <button type="button" class="quiet" disabled={index === 0} onClick={() => setIndex(index - 1)}>
          Previous section
        </button>
        {index < SECTIONS.length - 1 ? (
          <button type="button" class="quiet" onClick={() => setIndex(index + 1)} data-testid="section-next">
            Next section
          </button>
        ) : (
          <button type="button" disabled={finish.busy} onClick={() => void finish.go()} data-testid="reading-finish">
            Finish tonight's reading
          </button>
        )}
      </div>
      <ErrorText error={finish.error} />
    </>
  );
}

function SectionView({ reading, section }: { reading: Reading; section: SectionText }) {
  const { session, view } = useSession();
  const me = view.user?.id ?? "";
  const entries = reading.entries.filter((e) => e.section === section.name);
  const waiting = view.pending.filter((op) => {
    const body = op.body as { reading_id?: string; section?: string };
    return op.kind === "reading.entry.add" && body.reading_id === reading.id && body.section === section.name;
  });
  const doneBy = reading.sections.find((s) => s.name === section.name)?.done_by ?? [];
  const done = useAction(() =>
    session.send("reading.section.done", { reading_id: reading.id, section: section.name }),
  );
  const partnerDone = doneBy.some((id) => id !== me);
  return (
    <section aria-labelledby="section-heading" data-testid="reading-section" data-section={section.name}>
      <h2 id="section-heading">{section.title}</h2>
      <p class="muted">{section.prompt}</p>
      {entries.length === 0 && waiting.length === 0 ? (
        <p class="muted">Nothing here yet.</p>
      ) : (
        <ul class="entries" aria-label={`${section.title}: entries`}>
          {entries.map((entry) => (
            <EntryItem key={entry.id} reading={reading} entry={entry} />
          ))}
          {waiting.map((op) => {
            const body = op.body as { text: string; request?: string | null };
            return (
              <li key={op.op_id} class="entry mine waiting" data-testid="entry" data-author="me" data-waiting="true">
                <div class="who">You · waiting to send</div>
                <p class="text">{body.text}</p>
                {body.request && <p class="text">What would help: {body.request}</p>}
              </li>
            );
          })}
        </ul>
      )}
      <AddEntry reading={reading} section={section} />
      <p data-testid="section-done-state">
        {doneBy.includes(me) ? "You're done with this section." : ""}
        {partnerDone ? ` ${session.partnerName()} is done with it.` : ""}
      </p>
      {!doneBy.includes(me) && (
        <button type="button" class="quiet" disabled={done.busy} onClick={() => void done.go()} data-testid="section-done">
          I'm done with this section
        </button>
      )}
      <ErrorText error={done.error} />
    </section>
  );
}

function EntryItem({ reading, entry }: { reading: Reading; entry: Entry }) {
  const { session, view } = useSession();
  const mine = entry.author_id === view.user?.id;
  const [editing, setEditing] = useState(false);
  const [text, setText] = useState(entry.text);
  const [request, setRequest] = useState(entry.request ?? "");
  const save = useAction(async () => {
    const body: OpBody<"reading.entry.edit"> = { reading_id: reading.id, entry_id: entry.id, text: text.trim() };
    if (entry.section === "concerns") body.request = request.trim() || null;
    await session.send("reading.entry.edit", body);
    setEditing(false);
  });
  const remove = useAction(() =>
    session.send("reading.entry.delete", { reading_id: reading.id, entry_id: entry.id }),
  );
  return (
    <li class={`entry${mine ? " mine" : ""}`} data-testid="entry" data-author={mine ? "me" : "partner"}>
      <div class="who">
        {session.nameOf(entry.author_id)} · {clock(entry.at)}
      </div>
      {editing ? (
        <form
          onSubmit={(e) => {
            e.preventDefault();
            void save.go();
          }}
        >
          <Area id={`edit-${entry.id}`} label="Your words" required maxLength={2000} value={text} onInput={(e) => setText(e.currentTarget.value)} />
          {entry.section === "concerns" && (
            <Area
              id={`edit-request-${entry.id}`}
              label="What would help"
              maxLength={2000}
              value={request}
              onInput={(e) => setRequest(e.currentTarget.value)}
            />
          )}
          <div class="row">
            <button type="submit" disabled={save.busy}>
              Save
            </button>
            <button type="button" class="quiet" onClick={() => setEditing(false)}>
              Cancel
            </button>
          </div>
          <ErrorText error={save.error} />
        </form>
      ) : (
        <>
          <p class="text">{entry.text}</p>
          {entry.request && <p class="text">What would help: {entry.request}</p>}
          {mine && (
            <div class="row">
              <button type="button" class="link" onClick={() => setEditing(true)}>
                Edit<span class="visually-hidden"> this entry</span>
              </button>
              <button type="button" class="link" disabled={remove.busy} onClick={() => void remove.go()}>
                Delete<span class="visually-hidden"> this entry</span>
              </button>
            </div>
          )}
          <ErrorText error={remove.error} />
        </>
      )}
    </li>
  );
}

function AddEntry({ reading, section }: { reading: Reading; section: SectionText }) {
  const { session } = useSession();
  const [text, setText] = useState("");
  const [request, setRequest] = useState("");
  const concerns = section.name === "concerns";
  const add = useAction(() => {
    const body: OpBody<"reading.entry.add"> = { reading_id: reading.id, section: section.name, text: text.trim() };
    if (concerns && request.trim()) body.request = request.trim();
    // Cleared at once: offline, the op waits in the pending list and is shown from there.
    setText("");
    setRequest("");
    return session.send("reading.entry.add", body);
  });
  return (
    <form
      class="card"
      aria-label={`Add to ${section.title}`}
      onSubmit={(e) => {
        e.preventDefault();
        if (text.trim()) void add.go();
      }}
    >
      <Area
        id="entry-text"
        label={concerns ? "Your concern" : "Your words"}
        required
        maxLength={2000}
        value={text}
        onInput={(e) => setText(e.currentTarget.value)}
      />
      {concerns && (
        <Area
          id="entry-request"
          label="What would help"
          hint="Your recommendation: one thing your partner could do."
          maxLength={2000}
          value={request}
          onInput={(e) => setRequest(e.currentTarget.value)}
        />
      )}
      <ErrorText error={add.error} />
      <button type="submit" data-testid="entry-add">
        Add
      </button>
    </form>
  );
}

function FinishedReading({ reading }: { reading: Reading }) {
  return (
    <>
      <p class="notice" role="status" data-testid="reading-finished">
        You finished the reading of {longDate(reading.local_date)} together. Thank you both.
      </p>
      {SECTIONS.map((s) => {
        const entries = reading.entries.filter((e) => e.section === s.name);
        return (
          <section key={s.name} aria-label={s.title}>
            <h2>{s.title}</h2>
            {entries.length === 0 ? (
              <p class="muted">Nothing written.</p>
            ) : (
              <ul class="entries">
                {/* Finished, it takes no new words, but each may still edit or delete their own. */}
                {entries.map((e) => (
                  <EntryItem key={e.id} reading={reading} entry={e} />
                ))}
              </ul>
            )}
          </section>
        );
      })}
    </>
  );
}
