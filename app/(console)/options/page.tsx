// Option catalogue and bulk edit.
import { OptionsPage } from "@/components/options/options-page";

export default function Page() {
  return <OptionsPage />;
}
