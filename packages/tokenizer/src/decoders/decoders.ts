import { CHAR_TO_BYTE, utf8 } from '../byteLevel.js';
import { type Pattern, patternRegExp } from '../pattern.js';
import type { Decoder } from './decoder.js';

/** BERT's clean-up of spaces before punctuation and contractions. */
export function cleanup(s: string): string {
  return s
    .replaceAll(' .', '.')
    .replaceAll(' ?', '?')
    .replaceAll(' !', '!')
    .replaceAll(' ,', ',')
    .replaceAll(" ' ", "'")
    .replaceAll(" n't", "n't")
    .replaceAll(" 'm", "'m")
    .replaceAll(' do not', " don't")
    .replaceAll(" 's", "'s")
    .replaceAll(" 've", "'ve")
    .replaceAll(" 're", "'re");
}

/** Joins WordPiece subwords: `##` continues a word, anything else starts one after a space. */
export class WordPieceDecoder implements Decoder {
  constructor(
    readonly prefix = '##',
    readonly cleanup = true,
  ) {}
  decodeChain(tokens: string[]): string[] {
    return tokens.map((t, i) => {
      let out = t;
      if (i !== 0) out = out.startsWith(this.prefix) ? out.replace(this.prefix, '') : ` ${out}`;
      return this.cleanup ? cleanup(out) : out;
    });
  }
  /** The tokenizer.json `decoder` section: `{ type: 'WordPiece', prefix, cleanup }`. */
  toJSON(): Record<string, unknown> {
    return { type: 'WordPiece', prefix: this.prefix, cleanup: this.cleanup };
  }
}

const utf8Decoder = new TextDecoder('utf-8', { fatal: false });

/** Maps byte characters back to bytes and decodes UTF-8 (invalid sequences become U+FFFD). */
export class ByteLevelDecoder implements Decoder {
  decodeChain(tokens: string[]): string[] {
    const bytes: number[] = [];
    for (const t of tokens) {
      const start = bytes.length;
      let ok = true;
      for (let i = 0; i < t.length; i++) {
        const b = CHAR_TO_BYTE.get(t.charCodeAt(i));
        if (b === undefined) {
          ok = false;
          break;
        }
        bytes.push(b);
      }
      if (!ok) {
        // Not byte characters (an added token): keep its own UTF-8.
        bytes.length = start;
        for (const b of utf8(t)) bytes.push(b);
      }
    }
    return [utf8Decoder.decode(Uint8Array.from(bytes))];
  }
  /** The tokenizer.json `decoder` section: `{ type: 'ByteLevel' }` with Hugging Face's default flags, which decoding ignores. */
  toJSON(): Record<string, unknown> {
    return { type: 'ByteLevel', add_prefix_space: true, trim_offsets: true, use_regex: true };
  }
}

/** SentencePiece-style: the replacement character becomes a space (and is dropped in the first token). */
export class MetaspaceDecoder implements Decoder {
  constructor(
    readonly replacement = '▁',
    readonly prependScheme: 'always' | 'first' | 'never' = 'always',
    readonly split = true,
  ) {}
  decodeChain(tokens: string[]): string[] {
    // As Hugging Face: in the first token every replacement character is dropped.
    return tokens.map((t, i) => t.replaceAll(this.replacement, i === 0 && this.prependScheme !== 'never' ? '' : ' '));
  }
  /** The tokenizer.json `decoder` section: `{ type: 'Metaspace', replacement, prepend_scheme, split }`. */
  toJSON(): Record<string, unknown> {
    return { type: 'Metaspace', replacement: this.replacement, prepend_scheme: this.prependScheme, split: this.split };
  }
}

/** Classic BPE end-of-word suffix: the suffix becomes a space (dropped at the end). */
export class BPEDecoder implements Decoder {
  constructor(readonly suffix = '</w>') {}
  decodeChain(tokens: string[]): string[] {
    return tokens.map((t, i) => t.replaceAll(this.suffix, i === tokens.length - 1 ? '' : ' '));
  }
  /** The tokenizer.json `decoder` section: `{ type: 'BPEDecoder', suffix }`. */
  toJSON(): Record<string, unknown> {
    return { type: 'BPEDecoder', suffix: this.suffix };
  }
}

/** `<0xE4>`-style byte tokens back to text; runs of them are decoded as UTF-8 (invalid bytes become U+FFFD each). */
export class ByteFallbackDecoder implements Decoder {
  decodeChain(tokens: string[]): string[] {
    const out: string[] = [];
    let bytes: number[] = [];
    const flush = () => {
      if (bytes.length === 0) return;
      const text = strictUtf8(bytes);
      if (text === null) for (let i = 0; i < bytes.length; i++) out.push('\uFFFD');
      else out.push(text);
      bytes = [];
    };
    for (const t of tokens) {
      const m = /^<0x([0-9A-F]{2})>$/.exec(t);
      if (m !== null) bytes.push(Number.parseInt(m[1], 16));
      else {
        flush();
        out.push(t);
      }
    }
    flush();
    return out;
  }
  /** The tokenizer.json `decoder` section: `{ type: 'ByteFallback' }`. */
  toJSON(): Record<string, unknown> {
    return { type: 'ByteFallback' };
  }
}

const strictDecoder = new TextDecoder('utf-8', { fatal: true });

function strictUtf8(bytes: number[]): string | null {
  try {
    return strictDecoder.decode(Uint8Array.from(bytes));
  } catch {
    return null;
  }
}

/** Replaces every match of a string or regex pattern in every token. */
export class ReplaceDecoder implements Decoder {
  private readonly re: RegExp;
  constructor(
    readonly pattern: Pattern,
    readonly content: string,
  ) {
    this.re = patternRegExp(pattern);
  }
  decodeChain(tokens: string[]): string[] {
    return tokens.map((t) => t.replace(this.re, () => this.content));
  }
  /** The tokenizer.json `decoder` section: `{ type: 'Replace', pattern, content }`, `pattern` as `{ String }` or `{ Regex }`. */
  toJSON(): Record<string, unknown> {
    return { type: 'Replace', pattern: this.pattern, content: this.content };
  }
}

/** Removes up to `start` leading and `stop` trailing occurrences of `content` from every token. */
export class StripDecoder implements Decoder {
  constructor(
    readonly content: string,
    readonly start: number,
    readonly stop: number,
  ) {}
  decodeChain(tokens: string[]): string[] {
    return tokens.map((t) => {
      const chars = [...t];
      let a = 0;
      while (a < this.start && a < chars.length && chars[a] === this.content) a++;
      let b = chars.length;
      while (chars.length - b < this.stop && b > a && chars[b - 1] === this.content) b--;
      return chars.slice(a, b).join('');
    });
  }
  /** The tokenizer.json `decoder` section: `{ type: 'Strip', content, start, stop }`. */
  toJSON(): Record<string, unknown> {
    return { type: 'Strip', content: this.content, start: this.start, stop: this.stop };
  }
}

/** Concatenates all tokens into one. */
export class FuseDecoder implements Decoder {
  decodeChain(tokens: string[]): string[] {
    return [tokens.join('')];
  }
  /** The tokenizer.json `decoder` section: `{ type: 'Fuse' }`. */
  toJSON(): Record<string, unknown> {
    return { type: 'Fuse' };
  }
}

/** Applies decoders in order. */
export class SequenceDecoder implements Decoder {
  constructor(readonly decoders: Decoder[]) {}
  decodeChain(tokens: string[]): string[] {
    let out = tokens;
    for (const d of this.decoders) out = d.decodeChain(out);
    return out;
  }
  /** The tokenizer.json `decoder` section: `{ type: 'Sequence', decoders: [...] }`, each decoder's own section in order. */
  toJSON(): Record<string, unknown> {
    return { type: 'Sequence', decoders: this.decoders.map((d) => d.toJSON()) };
  }
}
