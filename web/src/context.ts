import { createContext } from "preact";
import { useContext } from "preact/hooks";
import type { Session, View } from "./session";
import { useStore } from "./store";

export const SessionContext = createContext<Session | null>(null);

export function useSession(): { session: Session; view: View } {
  const session = useContext(SessionContext);
  if (!session) throw new Error("useSession outside the app");
  return { session, view: useStore(session.view) };
}
