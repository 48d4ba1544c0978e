// Configuration export and import (admin; anyone else is told it is not theirs).
import { RequireRole } from "@/components/layout/app-shell";
import { TransferPage } from "@/components/transfer/transfer-page";

export default function Page() {
  return (
    <RequireRole role="admin" page="Export / import">
      <TransferPage />
    </RequireRole>
  );
}
