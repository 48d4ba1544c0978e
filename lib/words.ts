// Small pieces of English for sentences built from the console's vocabulary: "an operator", "an
// ip-takeover pair", "a viewer". Shared by the server's messages and the pages.

/** Acronyms read letter by letter whose first letter is said with a vowel sound ("an NLB cluster"). */
const VOWEL_SOUND_ACRONYMS = /^(nlb|rsa|lca|scs|http)\b/i;

/** The word with "a" or "an" before it, as it is said. */
export function withArticle(word: string): string {
  return `${/^[aeiou]/i.test(word) || VOWEL_SOUND_ACRONYMS.test(word) ? "an" : "a"} ${word}`;
}
