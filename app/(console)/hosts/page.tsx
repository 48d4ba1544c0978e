// Hosts page.
import { HostsPage } from "@/components/hosts/hosts-page";

export default function Page() {
  return <HostsPage />;
}
