import { asObject, badField, getArray, getBool, getInt, getString, getType, unknownType } from '../json.js';
import { patternFromJSON } from '../pattern.js';
import type { Decoder } from './decoder.js';
import {
  BPEDecoder,
  ByteFallbackDecoder,
  ByteLevelDecoder,
  FuseDecoder,
  MetaspaceDecoder,
  ReplaceDecoder,
  SequenceDecoder,
  StripDecoder,
  WordPieceDecoder,
} from './decoders.js';

/** Builds a decoder from its tokenizer.json section. */
export function decoderFromJSON(value: unknown, path = 'decoder'): Decoder {
  const obj = asObject(value, path);
  const type = getType(obj, path);
  switch (type) {
    case 'WordPiece':
      return new WordPieceDecoder(getString(obj, 'prefix', path, '##'), getBool(obj, 'cleanup', path, true));
    case 'ByteLevel':
      return new ByteLevelDecoder();
    case 'Metaspace': {
      const scheme = getString(obj, 'prepend_scheme', path, getBool(obj, 'add_prefix_space', path, true) ? 'always' : 'never');
      if (scheme !== 'always' && scheme !== 'first' && scheme !== 'never')
        throw badField(`${path}.prepend_scheme`, 'must be always, first or never');
      return new MetaspaceDecoder(getString(obj, 'replacement', path, '▁'), scheme, getBool(obj, 'split', path, true));
    }
    case 'BPEDecoder':
      return new BPEDecoder(getString(obj, 'suffix', path, '</w>'));
    case 'Fuse':
      return new FuseDecoder();
    case 'ByteFallback':
      return new ByteFallbackDecoder();
    case 'Replace':
      return new ReplaceDecoder(patternFromJSON(obj, path).pattern, getString(obj, 'content', path));
    case 'Strip':
      return new StripDecoder(getString(obj, 'content', path), getInt(obj, 'start', path, 0), getInt(obj, 'stop', path, 0));
    case 'Sequence':
      return new SequenceDecoder(getArray(obj, 'decoders', path).map((d, i) => decoderFromJSON(d, `${path}.decoders.${i}`)));
    default:
      throw unknownType(path, type, [
        'WordPiece',
        'ByteLevel',
        'Metaspace',
        'BPEDecoder',
        'ByteFallback',
        'Replace',
        'Strip',
        'Fuse',
        'Sequence',
      ]);
  }
}
