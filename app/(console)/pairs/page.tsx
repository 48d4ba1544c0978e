// HA pairs page.
import { PairsPage } from "@/components/pairs/pairs-page";

export default function Page() {
  return <PairsPage />;
}
