// The demo lab's "VIP": no real address, one small JSON file per pair and host recording whether the
// VIP is enabled there. The agent's lab driver writes it; the lab harness and tests read it. Defined
// here because both sides must agree on the layout and neither may import the other.
import path from "node:path";

/** The file that says whether `pair`'s lab VIP is enabled on `hostName`. */
export function labVipFile(stateDir: string, pair: string, hostName: string): string {
  return path.join(stateDir, pair, `${hostName}.json`);
}

/** What the file holds. */
export interface LabVipState {
  present: boolean;
  vip: string;
  host: string;
  updatedAt: string;
}
