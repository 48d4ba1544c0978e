// First-admin page, reached through the one-time link the console prints on first start.
import { Suspense } from "react";
import { LoginForm } from "@/components/layout/login-form";

export default function SetupPage() {
  return (
    <Suspense>
      <LoginForm mode="setup" />
    </Suspense>
  );
}
