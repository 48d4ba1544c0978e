// Alarm conditions and their reactions.
import { ConditionsPage } from "@/components/alarms/conditions-page";

export default function Page() {
  return <ConditionsPage />;
}
