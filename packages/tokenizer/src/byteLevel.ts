/**
 * GPT-2's reversible byte <-> character map: printable bytes map to themselves, the others
 * to U+0100 and up, so every byte sequence is a string of visible characters.
 */
export const BYTE_TO_CHAR: string[] = [];
export const CHAR_TO_BYTE = new Map<number, number>();

{
  const printable = (b: number) => (b >= 33 && b <= 126) || (b >= 161 && b <= 172) || (b >= 174 && b <= 255);
  let n = 0;
  for (let b = 0; b < 256; b++) {
    const cp = printable(b) ? b : 256 + n++;
    BYTE_TO_CHAR[b] = String.fromCodePoint(cp);
    CHAR_TO_BYTE.set(cp, b);
  }
}

/** The 256 characters of the byte-level alphabet. */
export function byteLevelAlphabet(): string[] {
  return BYTE_TO_CHAR.slice();
}

const encoder = new TextEncoder();

/** UTF-8 bytes of `s` (lone surrogates become U+FFFD). */
export function utf8(s: string): Uint8Array {
  return encoder.encode(s);
}

/** Maps a string to its byte-level form. */
export function toByteLevel(s: string): string {
  const bytes = utf8(s);
  const parts = new Array<string>(bytes.length);
  for (let i = 0; i < bytes.length; i++) parts[i] = BYTE_TO_CHAR[bytes[i]];
  return parts.join('');
}
