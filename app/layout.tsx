// Root layout: the tRPC/TanStack Query provider and the global styles. Every page is rendered per
// request: its inline scripts carry that response's Content-Security-Policy nonce (server/security-headers.ts),
// which a page prerendered at build time could not.
import type { Metadata } from "next";
import type { ReactNode } from "react";
import { connection } from "next/server";
import "./globals.css";
import { TRPCReactProvider } from "@/components/trpc/react";

export const metadata: Metadata = {
  title: "Switchyard",
  description: "Operations console for high-availability pairs of SIP servers",
};

export default async function RootLayout({ children }: { children: ReactNode }) {
  await connection();
  return (
    <html lang="en">
      <body>
        <TRPCReactProvider>{children}</TRPCReactProvider>
      </body>
    </html>
  );
}
