// One application's log, tailed and searched through its host's agent.
import { ApplicationLog } from "@/components/applications/application-log";

export default async function Page({ params }: { params: Promise<{ id: string }> }) {
  const { id } = await params;
  return <ApplicationLog id={id} />;
}
