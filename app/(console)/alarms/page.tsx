// Live alarm view: active alarms and history.
import { AlarmsPage } from "@/components/alarms/alarms-page";

export default function Page() {
  return <AlarmsPage />;
}
