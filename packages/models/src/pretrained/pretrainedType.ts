import { TesseraError } from '@tessera/core';
import type { ModelConfig } from '../config.js';

/** What each supported Hugging Face model type implements (clip.ts, chineseClip.ts, siglip.ts, bert.ts). */
export interface PretrainedType {
  /** config.json `model_type` values this type reads, e.g. ['clip', 'clip_vision_model', 'clip_text_model']. */
  modelTypes: readonly string[];
  /** HF config.json -> a Tessera model config. An unsupported switch is E_PRETRAINED_CONFIG naming the key. */
  fromHfConfig(hf: Record<string, unknown>, file: string): ModelConfig;
  /** Tessera parameter name -> HF tensor name (a data table; fromHfName is its inverse). */
  toHfName(name: string): string;
  /** HF tensor name -> Tessera parameter name (the inverse of `toHfName`). */
  fromHfName(hfName: string): string;
  /** Tensors of HF folders that are no parameters (buffers), skipped on load. */
  ignoreHf?: readonly RegExp[];
  /** Name prefixes a folder may leave out (a tower saved alone), see HfNameMapping. */
  optionalPrefixes?: readonly string[];
  /** The shape HF stores a tensor in, when it differs from Tessera's by size-1 axes (default: Tessera's). */
  hfShape?(hfName: string, shape: readonly number[]): number[];
  /** Whether this type is the one that exports `config` (the first type that says yes writes it). */
  exportsConfig(config: ModelConfig): boolean;
  /** Tessera config -> HF config.json, or E_EXPORT naming the setting HF cannot express. */
  toHfConfig(config: ModelConfig): Record<string, unknown>;
  /** tokenizer_config.json `tokenizer_class` of exported folders (default PreTrainedTokenizerFast: tokenizer.json as written). */
  tokenizerClass?: string;
}

/**
 * A two-way rename table: pairs [tessera, hf] of name fragments, `{i}` standing for a layer
 * index. The first pair whose fragment occurs in a name rewrites it; names no pair matches
 * are the same on both sides.
 */
export function renameTable(pairs: ReadonlyArray<readonly [tessera: string, hf: string]>): {
  /** Tessera parameter name -> HF tensor name. */
  toHfName(name: string): string;
  /** HF tensor name -> Tessera parameter name. */
  fromHfName(name: string): string;
} {
  const compile = (from: string, to: string) => {
    const source = from.replace(/[.*+?^${}()|[\]\\]/g, '\\$&').replace('\\{i\\}', '(\\d+)');
    return { re: new RegExp(source), to: to.replace('{i}', '$1') };
  };
  const forward = pairs.map(([t, h]) => compile(t, h));
  const backward = pairs.map(([t, h]) => compile(h, t));
  const apply = (rules: typeof forward, name: string) => {
    const rule = rules.find((r) => r.re.test(name));
    return rule ? name.replace(rule.re, rule.to) : name;
  };
  return { toHfName: (name) => apply(forward, name), fromHfName: (name) => apply(backward, name) };
}

/** Reads typed keys of an HF config with defaults, failing with the key's path. */
export class HfConfigReader {
  constructor(
    readonly hf: Record<string, unknown>,
    readonly file: string,
    readonly prefix = '',
  ) {}

  private fail(key: string, message: string): never {
    throw new TesseraError('E_PRETRAINED_CONFIG', `${this.file}: ${this.prefix}${key} ${message}`, {
      details: { path: this.file, field: `${this.prefix}${key}` },
    });
  }

  /** `key` as a finite number, `fallback` when it is absent or null; anything else is E_PRETRAINED_CONFIG naming the key. */
  number(key: string, fallback?: number): number {
    const v = this.hf[key] ?? fallback;
    if (typeof v !== 'number' || !Number.isFinite(v)) this.fail(key, `must be a number, got ${JSON.stringify(v)}`);
    return v;
  }

  /** `key` as an integer, as `number` reads it; a fractional value is E_PRETRAINED_CONFIG too. */
  int(key: string, fallback?: number): number {
    const v = this.number(key, fallback);
    if (!Number.isInteger(v)) this.fail(key, `must be an integer, got ${v}`);
    return v;
  }

  /** `key` as a string, `fallback` when it is absent or null; anything else is E_PRETRAINED_CONFIG naming the key. */
  string(key: string, fallback?: string): string {
    const v = this.hf[key] ?? fallback;
    if (typeof v !== 'string') this.fail(key, `must be a string, got ${JSON.stringify(v)}`);
    return v;
  }

  /** One of `table`'s keys, mapped; another value is unsupported, and the message lists the supported ones. */
  choice<T>(key: string, table: Record<string, T>, fallback?: string): T {
    const v = this.string(key, fallback);
    if (!(v in table)) this.fail(key, `is '${v}', which Tessera does not support (supported: ${Object.keys(table).join(', ')})`);
    return table[v] as T;
  }

  /** A nested config object (e.g. text_config); absent means all defaults. */
  section(key: string): HfConfigReader {
    const v = this.hf[key] ?? {};
    if (typeof v !== 'object' || v === null || Array.isArray(v)) this.fail(key, 'must be an object');
    return new HfConfigReader(v as Record<string, unknown>, this.file, `${this.prefix}${key}.`);
  }
}

/** E_EXPORT: `setting` of a Tessera config has no Hugging Face equivalent for `hfType`. */
export function exportError(setting: string, value: unknown, hfType: string, hint: string): TesseraError {
  return new TesseraError(
    'E_EXPORT',
    `cannot export to Hugging Face '${hfType}': ${setting} = ${JSON.stringify(value)} has no equivalent there. ${hint}`,
    { details: { setting, value, hfType } },
  );
}
