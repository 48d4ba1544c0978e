// Log events forwarded by the agents, searchable.
import { LogEventsPage } from "@/components/alarms/log-events-page";

export default function Page() {
  return <LogEventsPage />;
}
