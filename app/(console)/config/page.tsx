// Configuration export and import (admin).
import { TransferPage } from "@/components/transfer/transfer-page";

export default function Page() {
  return <TransferPage />;
}
