// HA link proofs: only the shared secret makes one, and a proof is good for one verifier nonce and one
// prover only (no replay, no reflection).
import { describe, expect, it } from "vitest";
import { haAuthProof, haAuthProofValid, newHaNonce } from "./ha-auth";

describe("HA link authentication proofs", () => {
  const secret = "pair-secret";
  const proverNonce = newHaNonce();
  const verifierNonce = newHaNonce();
  const proof = haAuthProof({ secret, proverName: "SIP_A", proverNonce, verifierNonce });

  it("a proof made with the shared secret is valid", () => {
    expect(proof).toMatch(/^[0-9a-f]{64}$/);
    expect(haAuthProofValid({ secret, proverName: "SIP_A", proverNonce, verifierNonce, proof })).toBe(true);
  });

  it("a proof made with another secret is not", () => {
    const wrong = haAuthProof({ secret: "other-secret", proverName: "SIP_A", proverNonce, verifierNonce });
    expect(haAuthProofValid({ secret, proverName: "SIP_A", proverNonce, verifierNonce, proof: wrong })).toBe(false);
  });

  it("a recorded proof replayed against a fresh verifier nonce is not valid", () => {
    expect(haAuthProofValid({ secret, proverName: "SIP_A", proverNonce, verifierNonce: newHaNonce(), proof })).toBe(false);
  });

  it("a proof cannot be reflected: it names its prover", () => {
    expect(haAuthProofValid({ secret, proverName: "SIP_B", proverNonce, verifierNonce, proof })).toBe(false);
  });

  it("malformed proofs are invalid, never an exception", () => {
    for (const bad of ["", "zz", proof.slice(0, 62), `${proof}00`, proof.toUpperCase()]) {
      expect(haAuthProofValid({ secret, proverName: "SIP_A", proverNonce, verifierNonce, proof: bad })).toBe(false);
    }
  });
});
