// Root layout: the tRPC/TanStack Query provider and the global styles.
import type { Metadata } from "next";
import type { ReactNode } from "react";
import "./globals.css";
import { TRPCReactProvider } from "@/components/trpc/react";

export const metadata: Metadata = {
  title: "Switchyard",
  description: "Operations console for high-availability pairs of SIP servers",
};

export default function RootLayout({ children }: { children: ReactNode }) {
  return (
    <html lang="en">
      <body>
        <TRPCReactProvider>{children}</TRPCReactProvider>
      </body>
    </html>
  );
}
