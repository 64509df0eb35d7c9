import type { ComponentChildren, JSX } from "preact";
import { useEffect, useRef, useState } from "preact/hooks";
import { ApiError, OpError } from "./client";
import { quickExit } from "./exit";
import { describe } from "./problems";
import { useRoute } from "./router";

export { describe };

/** A screen: its heading takes focus after an in-app navigation, so screen readers follow. */
export function Screen({ title, children }: { title: string; children: ComponentChildren }) {
  const heading = useRef<HTMLHeadingElement>(null);
  const { moves } = useRoute();
  useEffect(() => {
    document.title = `${title} · Twofold`;
    if (moves > 0) heading.current?.focus();
  }, [title, moves]);
  return (
    <>
      <h1 ref={heading} tabIndex={-1}>
        {title}
      </h1>
      {children}
    </>
  );
}

export function ErrorText({ error, id }: { error: unknown; id?: string }) {
  if (error == null) return null;
  return (
    <p class="error" role="alert" id={id}>
      {describe(error)}
    </p>
  );
}

/** An action a button starts: busy while it runs, its error kept for the screen to show. */
export function useAction<A extends unknown[]>(run: (...args: A) => Promise<unknown>) {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const alive = useRef(true);
  useEffect(
    () => () => {
      alive.current = false;
    },
    [],
  );
  async function go(...args: A): Promise<boolean> {
    setBusy(true);
    setError(null);
    try {
      await run(...args);
      return true;
    } catch (e) {
      if (alive.current) setError(e);
      return false;
    } finally {
      if (alive.current) setBusy(false);
    }
  }
  return { busy, error, go, setError };
}

type Action = { busy: boolean; error: unknown; go: () => Promise<boolean> };

type ActionFormProps = {
  /** With a title the form is a card of its own, named by it: shown as its heading when
   * `headingId` is given, else only read out (aria-label). Without one it is a bare form, for
   * inside a card that already names it. */
  title?: string;
  headingId?: string;
  /** What submitting runs (a `useAction`): its error shows above the button, and its button
   * is disabled while it runs, so a double tap does not send twice. */
  action: Action;
  submit: ComponentChildren;
  submitClass?: string;
  submitTestId?: string;
  /** False keeps the button disabled: something the form needs has not loaded yet. */
  ready?: boolean;
  /** Shown once the action has done its work, e.g. "Saved.". */
  notice?: string | false;
  children: ComponentChildren;
};

/** A form that runs one action: its fields, then the action's error, a notice, the button. */
export function ActionForm(props: ActionFormProps) {
  const { title, headingId, action, submit, submitClass, submitTestId, ready = true, notice, children } = props;
  return (
    <form
      class={title ? "card" : undefined}
      aria-label={headingId ? undefined : title}
      aria-labelledby={headingId}
      onSubmit={(e) => {
        e.preventDefault();
        void action.go();
      }}
    >
      {headingId && <h2 id={headingId}>{title}</h2>}
      {children}
      <ErrorText error={action.error} />
      {notice && (
        <p class="notice" role="status">
          {notice}
        </p>
      )}
      <button type="submit" class={submitClass} disabled={action.busy || !ready} data-testid={submitTestId}>
        {submit}
      </button>
    </form>
  );
}

/** Where a control's hint is, when it has one: the control is described by it. */
const hintOf = (id: string, hint?: string) => (hint ? `${id}-hint` : undefined);

/** A control with its label and, when given, a hint it is described by. */
function Labelled({ id, label, hint, children }: { id: string; label: string; hint?: string; children: ComponentChildren }) {
  return (
    <div class="field">
      <label for={id}>{label}</label>
      {hint && (
        <span class="hint" id={hintOf(id, hint)}>
          {hint}
        </span>
      )}
      {children}
    </div>
  );
}

type InputProps = JSX.IntrinsicElements["input"] & { label: string; hint?: string; id: string };

export function Field({ label, hint, id, ...input }: InputProps) {
  return (
    <Labelled id={id} label={label} hint={hint}>
      <input id={id} aria-describedby={hintOf(id, hint)} {...input} />
    </Labelled>
  );
}

type AreaProps = JSX.IntrinsicElements["textarea"] & { label: string; hint?: string; id: string };

export function Area({ label, hint, id, ...area }: AreaProps) {
  return (
    <Labelled id={id} label={label} hint={hint}>
      <textarea id={id} aria-describedby={hintOf(id, hint)} {...area} />
    </Labelled>
  );
}

/** The current time, re-read every `ms` while mounted (countdowns). */
export function useNow(ms = 1000): number {
  const [now, setNow] = useState(Date.now());
  useEffect(() => {
    const timer = setInterval(() => setNow(Date.now()), ms);
    return () => clearInterval(timer);
  }, [ms]);
  return now;
}

/** A control's value shown at once when changed, until the server's value catches up with it
 * (or the change fails and `reset` puts the server's back). A server value that does not match
 * yet (an answer to an earlier change, still on its way) leaves the shown one alone. */
export function useOptimistic<T>(server: T): [T, (value: T) => void, () => void] {
  const [local, setLocal] = useState<{ value: T } | null>(null);
  useEffect(() => {
    if (local && Object.is(local.value, server)) setLocal(null);
  }, [server, local]);
  return [local ? local.value : server, (value: T) => setLocal({ value }), () => setLocal(null)];
}

/** The quick exit, where she may need it most (the crisis and leave screens): at the top, in
 * plain sight, with the keys that do the same anywhere. */
export function QuickExit() {
  return (
    <div class="quick-exit">
      <button type="button" class="quiet" onClick={quickExit} data-testid="quick-exit">
        Quick exit
      </button>
      <span class="hint">Leaves for a weather page at once. Or press Esc twice.</span>
    </div>
  );
}
