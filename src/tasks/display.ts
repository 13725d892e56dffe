// Display strings of the three special tokens every task reserves (see SpecialTokens in types.ts).

/** `$` is B&N's teacherless dummy; `_` marks a masked (diffusion) position; `·` is padding. */
export const SPECIAL_DISPLAY = { dummy: '$', mask: '_', pad: '·' } as const;

/** Longer forms for tasks whose own characters already use the short ones (custom text). */
export const SPECIAL_DISPLAY_LONG = { dummy: '<$>', mask: '<mask>', pad: '<pad>' } as const;

/** Joins tokens' display strings, leaving out padding. */
export function joinTokens(vocab: readonly string[], pad: number, tokens: readonly number[]): string {
  return tokens
    .filter((t) => t !== pad)
    .map((t) => vocab[t] ?? `<${t}?>`)
    .join('');
}
