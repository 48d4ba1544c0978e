// One pair live: topology, status, switchover, options, timeline.
import { PairDetail } from "@/components/live/pair-detail";

export default async function Page({ params }: { params: Promise<{ id: string }> }) {
  const { id } = await params;
  return <PairDetail id={id} />;
}
