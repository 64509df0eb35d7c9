import { useEffect, useState } from "preact/hooks";
import type { CrisisLine, CrisisResources } from "../client";
import { useSession } from "../context";
import { ErrorText, QuickExit, Screen } from "../ui";

const COUNTRIES: [string, string][] = [
  ["US", "United States"],
  ["CA", "Canada"],
  ["GB", "United Kingdom"],
  ["IE", "Ireland"],
  ["AU", "Australia"],
  ["NZ", "New Zealand"],
  ["DE", "Germany"],
  ["FR", "France"],
  ["ES", "Spain"],
  ["IN", "India"],
  ["ZZ", "Somewhere else"],
];

function guessCountry(): string {
  const region = navigator.language.split("-")[1]?.toUpperCase();
  return COUNTRIES.some(([code]) => code === region) ? region! : "US";
}

// For this tab only (and forgotten on sign-out with every other `twofold:` key): where she
// looked for help is nothing to leave behind in the browser.
const COUNTRY_KEY = "twofold:crisis-country";
const UNAVAILABLE = "The lines can't be loaded right now. If you are in danger, call your local emergency number.";

/** Crisis and domestic-violence lines: needs no account, one tap from every screen. */
export function CrisisScreen() {
  const { session } = useSession();
  const [country, setCountry] = useState(() => sessionStorage.getItem(COUNTRY_KEY) ?? guessCountry());
  const [resources, setResources] = useState<CrisisResources | null>(null);
  const [error, setError] = useState<unknown>(null);
  useEffect(() => {
    sessionStorage.setItem(COUNTRY_KEY, country);
    // Only the country asked last may fill the page: an earlier answer can arrive after it.
    let current = true;
    setError(null);
    // No token needed: this must work signed out, too.
    fetch(new URL(`/v1/resources/crisis?country=${country}`, session.baseUrl))
      .then(async (answer) => {
        if (!answer.ok) throw new Error(answer.statusText);
        const lines = (await answer.json()) as CrisisResources;
        if (current) setResources(lines);
      })
      .catch(() => {
        if (current) setError(new Error(UNAVAILABLE));
      });
    return () => {
      current = false;
    };
  }, [country]);
  const crisis = resources?.lines.filter((l) => l.kind === "crisis") ?? [];
  const home = resources?.lines.filter((l) => l.kind === "domestic_violence") ?? [];
  return (
    <Screen title="Help, now">
      <QuickExit />
      <p>
        If you or someone else is in danger, call your local emergency number. If things at home
        feel unsafe, or a conversation is more than the two of you can hold, these people are
        there to talk to, any time.
      </p>
      <div class="field">
        <label for="crisis-country">Where you are</label>
        <select id="crisis-country" value={country} onChange={(e) => setCountry(e.currentTarget.value)}>
          {COUNTRIES.map(([code, name]) => (
            <option key={code} value={code}>
              {name}
            </option>
          ))}
        </select>
      </div>
      <ErrorText error={error} />
      {resources && (
        <div data-testid="crisis-lines">
          {crisis.length > 0 && <Lines title="If you're in crisis" lines={crisis} />}
          {home.length > 0 && <Lines title="If someone at home is hurting you" lines={home} />}
          <Lines
            title={resources.national ? "Anywhere in the world" : "We don't have lines for that country yet; these work anywhere"}
            lines={resources.international}
          />
        </div>
      )}
    </Screen>
  );
}

function Lines({ title, lines }: { title: string; lines: CrisisLine[] }) {
  return (
    <section class="card" aria-label={title}>
      <h2>{title}</h2>
      <ul class="lines">
        {lines.map((line) => (
          <li key={line.name}>
            <strong>{line.name}</strong>
            <span class="muted"> · {line.hours}</span>
            <div class="row">
              {line.phone && (
                <a class="button" href={`tel:${line.phone.replace(/[^\d+]/g, "")}`}>
                  Call {line.phone}
                </a>
              )}
              {line.text &&
                (/^[\d\s-]+$/.test(line.text) ? (
                  <a class="button quiet" href={`sms:${line.text.replace(/\D/g, "")}`}>
                    Text {line.text}
                  </a>
                ) : (
                  <span>{line.text}</span>
                ))}
              {line.url && (
                <a href={line.url} target="_blank" rel="noopener noreferrer">
                  {line.url.replace(/^https?:\/\//, "")}
                </a>
              )}
            </div>
          </li>
        ))}
      </ul>
    </section>
  );
}
