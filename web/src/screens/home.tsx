import { useSession } from "../context";
import { Link } from "../router";
import { Screen } from "../ui";
import { PausePanel } from "./pause";

export function HomeScreen() {
  const { session, view } = useSession();
  const state = view.state;
  const me = view.user?.id;
  const reading = state?.reading ?? null;
  const proposed = state?.rituals.filter((r) => r.status === "proposed" && r.proposed_by !== me) ?? [];
  const repairs = state?.repairs ?? [];
  return (
    <Screen title={`${view.user?.display_name ?? ""} & ${session.partnerName()}`}>
      <PausePanel />
      <section class="card" aria-labelledby="tonight-heading">
        <h2 id="tonight-heading">Tonight</h2>
        <p>
          {reading == null
            ? "Tonight's reading hasn't started yet."
            : reading.finished_at
              ? "You finished tonight's reading together."
              : `Tonight's reading is under way: ${reading.entries.length} ${reading.entries.length === 1 ? "entry" : "entries"} so far.`}{" "}
          <Link to="/reading">Go to the reading</Link>
        </p>
        {repairs.length > 0 && (
          <p>
            {repairs.length === 1 ? "One repair is open." : `${repairs.length} repairs are open.`}{" "}
            <Link to="/repair">Go to repair</Link>
          </p>
        )}
        {proposed.length > 0 && (
          <p>
            {session.partnerName()} proposed {proposed.length === 1 ? "a ritual" : "rituals"}.{" "}
            <Link to="/rituals">Have a look</Link>
          </p>
        )}
      </section>
    </Screen>
  );
}
