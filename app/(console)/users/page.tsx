// Users page (admin; anyone else is told it is not theirs).
import { RequireRole } from "@/components/layout/app-shell";
import { UsersPage } from "@/components/users/users-page";

export default function Page() {
  return (
    <RequireRole role="admin" page="The Users page">
      <UsersPage />
    </RequireRole>
  );
}
