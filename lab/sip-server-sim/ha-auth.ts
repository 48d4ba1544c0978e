// HA link authentication: both servers of a pair prove they know the pair's shared secret (haSecret)
// before anything else crosses the link. HMAC-SHA256 challenge–response with a fresh nonce from each side:
// a proof covers the verifier's nonce, so a handshake recorded earlier and replayed fails; it names the
// prover, so a proof cannot be reflected back to the server that sent it.
import { createHmac, randomBytes, timingSafeEqual } from "node:crypto";

export const haAuthNonceBytes = 32;
/** Hex of a nonce or an HMAC-SHA256: 64 characters. */
export const haAuthHexPattern = /^[0-9a-f]{64}$/;
const proofLabel = "switchyard-ha-auth-v1";

export function newHaNonce(): string {
  return randomBytes(haAuthNonceBytes).toString("hex");
}

export interface ProofInput {
  secret: string;
  /** The server that proves (its configured name). */
  proverName: string;
  /** The nonce the prover sent in its challenge. */
  proverNonce: string;
  /** The nonce the verifier sent: fresh per connection, so an old proof does not match. */
  verifierNonce: string;
}

export function haAuthProof(input: ProofInput): string {
  // Nonces are fixed-length hex, so the joined text is unambiguous whatever the name holds.
  const text = [proofLabel, input.proverName, input.verifierNonce, input.proverNonce].join("\n");
  return createHmac("sha256", input.secret).update(text).digest("hex");
}

export function haAuthProofValid(input: ProofInput & { proof: string }): boolean {
  if (!haAuthHexPattern.test(input.proof)) return false;
  const expected = Buffer.from(haAuthProof(input), "hex");
  return timingSafeEqual(Buffer.from(input.proof, "hex"), expected);
}
