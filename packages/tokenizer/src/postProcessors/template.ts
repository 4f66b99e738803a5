import { TesseraError } from '@tessera/base';
import { Encoding } from '../encoding.js';
import { trimByteLevelOffsets } from './byteLevel.js';
import type { PostProcessor } from './postProcessor.js';

/**
 * One piece of a `TemplateProcessing` template, as tokenizer.json writes it: a special token or input
 * `A`/`B`, each with the type id its tokens get. `TemplateProcessing.parseTemplate` builds them from
 * the `"[CLS]:0 $A:0 [SEP]:0"` form.
 */
export type TemplatePiece = { SpecialToken: { id: string; type_id: number } } | { Sequence: { id: 'A' | 'B'; type_id: number } };

export interface TemplateSpecialToken {
  id: string;
  ids: number[];
  tokens: string[];
}

function setTypeIds(e: Encoding, typeId: number): void {
  e.typeIds = new Array<number>(e.ids.length).fill(typeId);
  for (const o of e.overflowing) setTypeIds(o, typeId);
}

/** Hugging Face `TemplateProcessing`: `[CLS] $A [SEP]` style templates for single inputs and pairs. */
export class TemplateProcessing implements PostProcessor {
  constructor(
    readonly single: TemplatePiece[],
    readonly pair: TemplatePiece[],
    readonly specialTokens: Map<string, TemplateSpecialToken>,
  ) {}

  /** Parses `"[CLS]:0 $A:0 [SEP]:0"` (type ids default to 0; `$A`/`$B` alone are sequences). */
  static parseTemplate(template: string): TemplatePiece[] {
    return template
      .split(' ')
      .filter((p) => p.length > 0)
      .map((p): TemplatePiece => {
        const colon = p.lastIndexOf(':');
        const hasType = colon > 0 && /^\d+$/.test(p.slice(colon + 1));
        const name = hasType ? p.slice(0, colon) : p;
        const typeId = hasType ? Number(p.slice(colon + 1)) : 0;
        if (name === '$A' || name === '$') return { Sequence: { id: 'A', type_id: typeId } };
        if (name === '$B') return { Sequence: { id: 'B', type_id: typeId } };
        if (/^\$\d+$/.test(name)) return { Sequence: { id: 'A', type_id: Number(name.slice(1)) } };
        return { SpecialToken: { id: name, type_id: typeId } };
      });
  }

  addedTokens(isPair: boolean): number {
    let n = 0;
    for (const p of isPair ? this.pair : this.single)
      if ('SpecialToken' in p) n += this.specialTokens.get(p.SpecialToken.id)?.ids.length ?? 0;
    return n;
  }

  /**
   * Lays out the single or pair template: `$A`/`$B` take their template type ids, special tokens are
   * inserted when `addSpecialTokens`; overflowing windows are combined as Hugging Face does.
   */
  process(encoding: Encoding, pair: Encoding | null, addSpecialTokens: boolean): Encoding {
    if (encoding.overflowing.length === 0 && (pair === null || pair.overflowing.length === 0))
      return this.processFlat(encoding, pair, addSpecialTokens);
    return Encoding.merge(this.layout(pair === null ? [encoding] : [encoding, pair], addSpecialTokens));
  }

  /**
   * The template's pieces, unmerged: the single template for one encoding, the pair template for two
   * (any other count is an error, as in Hugging Face). `$A`/`$B` are the inputs with their type ids
   * (and those of their overflowing windows) set in place; a second use of an input is a copy.
   */
  processEncodings(encodings: Encoding[], addSpecialTokens: boolean): Encoding[] {
    return this.layout(encodings, addSpecialTokens);
  }

  /** `processEncodings` without overrides (subclasses' extra steps run once, in their own `process`). */
  private layout(encodings: Encoding[], addSpecialTokens: boolean): Encoding[] {
    if (encodings.length !== 1 && encodings.length !== 2) {
      throw new TesseraError(
        'E_CONFIG',
        `TemplateProcessing takes one encoding or a pair, not ${encodings.length}; in a Sequence post-processor, put it after ByteLevel, not after another template.`,
        { details: { field: 'post_processor' } },
      );
    }
    const parts: Encoding[] = [];
    const used = new Set<Encoding>();
    for (const piece of encodings.length === 1 ? this.single : this.pair) {
      if ('Sequence' in piece) {
        let src: Encoding | undefined = encodings[piece.Sequence.id === 'A' ? 0 : 1];
        if (src === undefined) continue;
        if (used.has(src)) src = src.clone();
        used.add(src);
        setTypeIds(src, piece.Sequence.type_id);
        parts.push(src);
      } else if (addSpecialTokens) {
        const tok = this.specialTokens.get(piece.SpecialToken.id);
        if (tok !== undefined) parts.push(Encoding.special(tok.ids, tok.tokens, piece.SpecialToken.type_id));
      }
    }
    return parts;
  }

  /** The common case without overflowing windows: one pass, no intermediate encodings. */
  private processFlat(encoding: Encoding, pair: Encoding | null, addSpecialTokens: boolean): Encoding {
    const out = Encoding.empty();
    for (const piece of pair === null ? this.single : this.pair) {
      if ('Sequence' in piece) {
        const src = piece.Sequence.id === 'A' ? encoding : pair;
        if (src === null) continue;
        out.append(src, piece.Sequence.type_id);
      } else if (addSpecialTokens) {
        const tok = this.specialTokens.get(piece.SpecialToken.id);
        if (tok !== undefined) out.append(Encoding.special(tok.ids, tok.tokens, piece.SpecialToken.type_id));
      }
    }
    return out;
  }

  /** The tokenizer.json `post_processor` section: `{ type: 'TemplateProcessing', single, pair, special_tokens }`. */
  toJSON(): Record<string, unknown> {
    return {
      type: 'TemplateProcessing',
      single: this.single,
      pair: this.pair,
      special_tokens: Object.fromEntries([...this.specialTokens].map(([k, v]) => [k, { id: v.id, ids: v.ids, tokens: v.tokens }])),
    };
  }
}

/**
 * RoBERTa: `<s> A </s>` and `<s> A </s></s> B </s>`, every type id 0, with byte-level offset
 * trimming first when `trimOffsets`.
 */
export class RobertaProcessing extends TemplateProcessing {
  constructor(
    readonly sep: [string, number],
    readonly cls: [string, number],
    readonly trimOffsets = true,
    readonly addPrefixSpace = true,
  ) {
    super(
      TemplateProcessing.parseTemplate(`${cls[0]}:0 $A:0 ${sep[0]}:0`),
      TemplateProcessing.parseTemplate(`${cls[0]}:0 $A:0 ${sep[0]}:0 ${sep[0]}:0 $B:0 ${sep[0]}:0`),
      new Map([
        [cls[0], { id: cls[0], ids: [cls[1]], tokens: [cls[0]] }],
        [sep[0], { id: sep[0], ids: [sep[1]], tokens: [sep[0]] }],
      ]),
    );
  }

  /** Trims byte-level offsets first when `trimOffsets` (as `ByteLevelProcessing`), then applies the RoBERTa template. */
  override process(encoding: Encoding, pair: Encoding | null, addSpecialTokens: boolean): Encoding {
    if (this.trimOffsets) {
      trimByteLevelOffsets(encoding, this.addPrefixSpace);
      if (pair !== null) trimByteLevelOffsets(pair, this.addPrefixSpace);
    }
    return super.process(encoding, pair, addSpecialTokens);
  }

  /** `process` unmerged: trims each encoding's offsets when `trimOffsets`, then returns the template's pieces. */
  override processEncodings(encodings: Encoding[], addSpecialTokens: boolean): Encoding[] {
    if (this.trimOffsets) for (const e of encodings) trimByteLevelOffsets(e, this.addPrefixSpace);
    return super.processEncodings(encodings, addSpecialTokens);
  }

  /** The tokenizer.json `post_processor` section: `{ type: 'RobertaProcessing', sep, cls, trim_offsets, add_prefix_space }`. */
  override toJSON(): Record<string, unknown> {
    return {
      type: 'RobertaProcessing',
      sep: this.sep,
      cls: this.cls,
      trim_offsets: this.trimOffsets,
      add_prefix_space: this.addPrefixSpace,
    };
  }
}

/** BERT: `[CLS] A [SEP]` and `[CLS] A [SEP] B [SEP]` with type ids 0 then 1. */
export class BertProcessing extends TemplateProcessing {
  constructor(
    readonly sep: [string, number],
    readonly cls: [string, number],
  ) {
    super(
      TemplateProcessing.parseTemplate(`${cls[0]}:0 $A:0 ${sep[0]}:0`),
      TemplateProcessing.parseTemplate(`${cls[0]}:0 $A:0 ${sep[0]}:0 $B:1 ${sep[0]}:1`),
      new Map([
        [cls[0], { id: cls[0], ids: [cls[1]], tokens: [cls[0]] }],
        [sep[0], { id: sep[0], ids: [sep[1]], tokens: [sep[0]] }],
      ]),
    );
  }

  /** The tokenizer.json `post_processor` section: `{ type: 'BertProcessing', sep, cls }`, each a `[token, id]` pair. */
  override toJSON(): Record<string, unknown> {
    return { type: 'BertProcessing', sep: this.sep, cls: this.cls };
  }
}
