// The live dashboard: every HA pair, roles, VIP, readiness, switchover.
import { Dashboard } from "@/components/live/dashboard";

export default function Page() {
  return <Dashboard />;
}
