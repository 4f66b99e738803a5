import { asObject, badField, getArray, getBool, getType, type JsonObject, unknownType } from '../json.js';
import { ByteLevelProcessing, SequenceProcessing } from './byteLevel.js';
import type { PostProcessor } from './postProcessor.js';
import { BertProcessing, RobertaProcessing, type TemplatePiece, TemplateProcessing, type TemplateSpecialToken } from './template.js';

function tokenPair(obj: JsonObject, key: string, path: string): [string, number] {
  const v = obj[key];
  if (!Array.isArray(v) || v.length !== 2 || typeof v[0] !== 'string' || !Number.isInteger(v[1])) {
    throw badField(`${path}.${key}`, 'must be ["token", id]');
  }
  return [v[0], v[1]];
}

function pieces(value: unknown, path: string): TemplatePiece[] {
  if (typeof value === 'string') return TemplateProcessing.parseTemplate(value);
  if (!Array.isArray(value)) throw badField(path, 'must be a template string or an array of pieces');
  return value.map((p, i): TemplatePiece => {
    const o = asObject(p, `${path}.${i}`);
    if (o.SpecialToken !== undefined) {
      const s = asObject(o.SpecialToken, `${path}.${i}.SpecialToken`);
      if (typeof s.id !== 'string') throw badField(`${path}.${i}.SpecialToken.id`, 'must be a string');
      return { SpecialToken: { id: s.id, type_id: Number(s.type_id ?? 0) } };
    }
    if (o.Sequence !== undefined) {
      const s = asObject(o.Sequence, `${path}.${i}.Sequence`);
      if (s.id !== 'A' && s.id !== 'B') throw badField(`${path}.${i}.Sequence.id`, 'must be "A" or "B"');
      return { Sequence: { id: s.id, type_id: Number(s.type_id ?? 0) } };
    }
    throw badField(`${path}.${i}`, 'must be {"SpecialToken": ...} or {"Sequence": ...}');
  });
}

/** Builds a post-processor from its tokenizer.json section. */
export function postProcessorFromJSON(value: unknown, path = 'post_processor'): PostProcessor {
  const obj = asObject(value, path);
  const type = getType(obj, path);
  switch (type) {
    case 'BertProcessing':
      return new BertProcessing(tokenPair(obj, 'sep', path), tokenPair(obj, 'cls', path));
    case 'RobertaProcessing':
      return new RobertaProcessing(
        tokenPair(obj, 'sep', path),
        tokenPair(obj, 'cls', path),
        getBool(obj, 'trim_offsets', path, true),
        getBool(obj, 'add_prefix_space', path, true),
      );
    case 'ByteLevel':
      return new ByteLevelProcessing(
        getBool(obj, 'trim_offsets', path, true),
        getBool(obj, 'add_prefix_space', path, true),
        getBool(obj, 'use_regex', path, true),
      );
    case 'TemplateProcessing': {
      const special = new Map<string, TemplateSpecialToken>();
      const st = asObject(obj.special_tokens ?? {}, `${path}.special_tokens`);
      for (const [name, v] of Object.entries(st)) {
        const p = `${path}.special_tokens.${name}`;
        const o = asObject(v, p);
        const ids = getArray(o, 'ids', p);
        const tokens = getArray(o, 'tokens', p);
        if (!ids.every((x) => Number.isInteger(x)) || !tokens.every((x) => typeof x === 'string') || ids.length !== tokens.length) {
          throw badField(p, 'must have as many integer ids as string tokens');
        }
        special.set(name, { id: typeof o.id === 'string' ? o.id : name, ids: ids as number[], tokens: tokens as string[] });
      }
      const single = pieces(obj.single, `${path}.single`);
      const pair = pieces(obj.pair, `${path}.pair`);
      for (const [i, p] of [...single, ...pair].entries()) {
        if ('SpecialToken' in p && !special.has(p.SpecialToken.id)) {
          throw badField(`${path}.special_tokens`, `lacks "${p.SpecialToken.id}", used by template piece ${i}`);
        }
      }
      return new TemplateProcessing(single, pair, special);
    }
    case 'Sequence':
      return new SequenceProcessing(getArray(obj, 'processors', path).map((p, i) => postProcessorFromJSON(p, `${path}.processors.${i}`)));
    default:
      throw unknownType(path, type, ['BertProcessing', 'RobertaProcessing', 'ByteLevel', 'TemplateProcessing', 'Sequence']);
  }
}
