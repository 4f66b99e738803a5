import { asObject, badField, getArray, getBool, getString, getType, unknownType } from '../json.js';
import { patternFromJSON } from '../pattern.js';
import {
  BertPreTokenizer,
  CharDelimiterSplitPreTokenizer,
  DigitsPreTokenizer,
  PunctuationPreTokenizer,
  SequencePreTokenizer,
  SplitPreTokenizer,
  WhitespacePreTokenizer,
  WhitespaceSplitPreTokenizer,
} from './basic.js';
import { ByteLevelPreTokenizer } from './byteLevel.js';
import { MetaspacePreTokenizer } from './metaspace.js';
import type { PreTokenizer } from './preTokenizer.js';
import { SPLIT_BEHAVIORS, type SplitBehavior } from './split.js';

const KNOWN = [
  'BertPreTokenizer',
  'ByteLevel',
  'Metaspace',
  'Whitespace',
  'WhitespaceSplit',
  'CharDelimiterSplit',
  'Punctuation',
  'Digits',
  'Split',
  'Sequence',
];

function behavior(obj: Record<string, unknown>, path: string, fallback: SplitBehavior): SplitBehavior {
  const b = getString(obj, 'behavior', path, fallback);
  if (!(SPLIT_BEHAVIORS as readonly string[]).includes(b))
    throw badField(`${path}.behavior`, `must be one of ${SPLIT_BEHAVIORS.join(', ')}`);
  return b as SplitBehavior;
}

/** Builds a pre-tokenizer from its tokenizer.json section. */
export function preTokenizerFromJSON(value: unknown, path = 'pre_tokenizer'): PreTokenizer {
  const obj = asObject(value, path);
  const type = getType(obj, path);
  switch (type) {
    case 'BertPreTokenizer':
      return new BertPreTokenizer();
    case 'ByteLevel':
      return new ByteLevelPreTokenizer(
        getBool(obj, 'add_prefix_space', path, true),
        getBool(obj, 'use_regex', path, true),
        getBool(obj, 'trim_offsets', path, true),
      );
    case 'Whitespace':
      return new WhitespacePreTokenizer();
    case 'WhitespaceSplit':
      return new WhitespaceSplitPreTokenizer();
    case 'CharDelimiterSplit':
      return new CharDelimiterSplitPreTokenizer(getString(obj, 'delimiter', path));
    case 'Punctuation':
      return new PunctuationPreTokenizer(behavior(obj, path, 'Isolated'));
    case 'Digits':
      return new DigitsPreTokenizer(getBool(obj, 'individual_digits', path, false));
    case 'Split':
      return new SplitPreTokenizer(
        patternFromJSON(obj, path).pattern,
        behavior(obj, path, 'Isolated'),
        getBool(obj, 'invert', path, false),
      );
    case 'Metaspace': {
      const scheme = getString(obj, 'prepend_scheme', path, getBool(obj, 'add_prefix_space', path, true) ? 'always' : 'never');
      if (scheme !== 'always' && scheme !== 'first' && scheme !== 'never')
        throw badField(`${path}.prepend_scheme`, 'must be always, first or never');
      return new MetaspacePreTokenizer(getString(obj, 'replacement', path, '▁'), scheme, getBool(obj, 'split', path, true));
    }
    case 'Sequence':
      return new SequencePreTokenizer(
        getArray(obj, 'pretokenizers', path).map((p, i) => preTokenizerFromJSON(p, `${path}.pretokenizers.${i}`)),
      );
    default:
      throw unknownType(path, type, KNOWN);
  }
}
