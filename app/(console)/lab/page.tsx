// The demo lab's fault panel.
import { LabPage } from "@/components/lab/lab-page";

export default function Page() {
  return <LabPage />;
}
