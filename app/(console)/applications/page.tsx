// Applications page.
import { ApplicationsPage } from "@/components/applications/applications-page";

export default function Page() {
  return <ApplicationsPage />;
}
