import { asObject, getArray, getBool, getOptBool, getString, getType, unknownType } from '../json.js';
import { patternFromJSON } from '../pattern.js';
import { BertNormalizer } from './bertNormalizer.js';
import { LowercaseNormalizer } from './lowercase.js';
import type { Normalizer } from './normalizer.js';
import { PrependNormalizer, ReplaceNormalizer, SequenceNormalizer, StripNormalizer } from './simple.js';
import { StripAccentsNormalizer } from './stripAccents.js';
import { UnicodeNormalizer } from './unicodeForm.js';

const KNOWN = ['BertNormalizer', 'NFC', 'NFD', 'NFKC', 'NFKD', 'Lowercase', 'StripAccents', 'Strip', 'Replace', 'Prepend', 'Sequence'];

/** Builds a normalizer from its tokenizer.json section (`path` names it in errors). */
export function normalizerFromJSON(value: unknown, path = 'normalizer'): Normalizer {
  const obj = asObject(value, path);
  const type = getType(obj, path);
  switch (type) {
    case 'BertNormalizer':
      return new BertNormalizer({
        cleanText: getBool(obj, 'clean_text', path, true),
        handleChineseChars: getBool(obj, 'handle_chinese_chars', path, true),
        stripAccents: getOptBool(obj, 'strip_accents', path),
        lowercase: getBool(obj, 'lowercase', path, true),
      });
    case 'NFC':
    case 'NFD':
    case 'NFKC':
    case 'NFKD':
      return new UnicodeNormalizer(type);
    case 'Lowercase':
      return new LowercaseNormalizer();
    case 'StripAccents':
      return new StripAccentsNormalizer();
    case 'Strip':
      return new StripNormalizer(getBool(obj, 'strip_left', path, true), getBool(obj, 'strip_right', path, true));
    case 'Replace':
      return new ReplaceNormalizer(patternFromJSON(obj, path).pattern, getString(obj, 'content', path));
    case 'Prepend':
      return new PrependNormalizer(getString(obj, 'prepend', path));
    case 'Sequence':
      return new SequenceNormalizer(getArray(obj, 'normalizers', path).map((n, i) => normalizerFromJSON(n, `${path}.normalizers.${i}`)));
    default:
      throw unknownType(path, type, KNOWN);
  }
}
