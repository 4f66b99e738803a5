import { asObject, badField, getBool, getInt, getOptString, getString, getType, unknownType } from '../json.js';
import { BPE } from './bpe.js';
import type { Model } from './model.js';
import { Unigram } from './unigram.js';
import { WordLevel } from './wordLevel.js';
import { WordPiece } from './wordPiece.js';

function vocabMap(value: unknown, path: string): Map<string, number> {
  const obj = asObject(value, path);
  const vocab = new Map<string, number>();
  for (const [token, id] of Object.entries(obj)) {
    if (typeof id !== 'number' || !Number.isInteger(id) || id < 0)
      throw badField(`${path}["${token}"]`, 'must be a non-negative integer id');
    vocab.set(token, id);
  }
  return vocab;
}

function mergeList(value: unknown, path: string): Array<[string, string]> {
  if (!Array.isArray(value)) throw badField(path, value === undefined ? 'is missing' : 'must be an array');
  return value.map((m, i): [string, string] => {
    if (typeof m === 'string') {
      const space = m.indexOf(' ');
      if (space <= 0 || space === m.length - 1 || m.indexOf(' ', space + 1) >= 0) throw badField(`${path}.${i}`, 'must be "left right"');
      return [m.slice(0, space), m.slice(space + 1)];
    }
    if (Array.isArray(m) && m.length === 2 && typeof m[0] === 'string' && typeof m[1] === 'string') return [m[0], m[1]];
    throw badField(`${path}.${i}`, 'must be "left right" or ["left", "right"]');
  });
}

/** Builds a model from the `model` section of tokenizer.json. */
export function modelFromJSON(value: unknown, path = 'model'): Model {
  const obj = asObject(value, path);
  // Old files omit `type`; infer it like Hugging Face does.
  const type =
    obj.type === undefined ? (obj.merges !== undefined ? 'BPE' : Array.isArray(obj.vocab) ? 'Unigram' : 'WordPiece') : getType(obj, path);
  switch (type) {
    case 'WordPiece':
      return new WordPiece(vocabMap(obj.vocab, `${path}.vocab`), {
        unkToken: getString(obj, 'unk_token', path, '[UNK]'),
        continuingSubwordPrefix: getString(obj, 'continuing_subword_prefix', path, '##'),
        maxInputCharsPerWord: getInt(obj, 'max_input_chars_per_word', path, 100),
      });
    case 'BPE':
      return new BPE(vocabMap(obj.vocab, `${path}.vocab`), mergeList(obj.merges, `${path}.merges`), {
        unkToken: getOptString(obj, 'unk_token', path),
        continuingSubwordPrefix: getOptString(obj, 'continuing_subword_prefix', path),
        endOfWordSuffix: getOptString(obj, 'end_of_word_suffix', path),
        fuseUnk: getBool(obj, 'fuse_unk', path, false),
        byteFallback: getBool(obj, 'byte_fallback', path, false),
        ignoreMerges: getBool(obj, 'ignore_merges', path, false),
      });
    case 'Unigram': {
      const vocab = obj.vocab;
      if (!Array.isArray(vocab)) throw badField(`${path}.vocab`, vocab === undefined ? 'is missing' : 'must be an array of [token, score]');
      const entries = vocab.map((e, i): [string, number] => {
        if (!Array.isArray(e) || e.length !== 2 || typeof e[0] !== 'string' || typeof e[1] !== 'number')
          throw badField(`${path}.vocab.${i}`, 'must be [token, score]');
        return [e[0], e[1]];
      });
      const unk = obj.unk_id === undefined || obj.unk_id === null ? null : getInt(obj, 'unk_id', path);
      return new Unigram(entries, unk, getBool(obj, 'byte_fallback', path, false));
    }
    case 'WordLevel':
      return new WordLevel(vocabMap(obj.vocab, `${path}.vocab`), getString(obj, 'unk_token', path, '<unk>'));
    default:
      throw unknownType(path, type, ['WordPiece', 'BPE', 'Unigram', 'WordLevel']);
  }
}
