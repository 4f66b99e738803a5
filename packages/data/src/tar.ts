import { createReadStream } from 'node:fs';
import type { FileHandle } from 'node:fs/promises';

/**
 * A small POSIX tar reader and writer, enough for WebDataset shards: regular files,
 * pax (`x`) and GNU long-name (`L`) headers on read. Written archives match Python's
 * `tarfile` in its default PAX format byte for byte (what img2dataset and webdataset write;
 * mode 0644, uid/gid 0, mtime 0, 10 KiB records): plain ustar headers, plus a pax `path`
 * record before a member whose name is over 100 bytes or not ASCII.
 */
const BLOCK = 512;
const RECORD = 20 * BLOCK;
const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** One regular file read from a tar archive. */
export interface TarEntry {
  /** Member path inside the archive (pax, GNU long-name and ustar prefix resolved), e.g. `000000001.jpg`. */
  name: string;
  /** The file's contents. */
  data: Uint8Array;
}

/** A shard that ends early or has a damaged header; `kind` tells which. */
export class TarFormatError extends Error {
  constructor(
    readonly kind: 'truncated' | 'corrupt',
    message: string,
  ) {
    super(message);
    this.name = 'TarFormatError';
  }
}

function writeOctal(buf: Uint8Array, offset: number, width: number, value: number): void {
  const digits = value.toString(8).padStart(width - 1, '0');
  if (digits.length > width - 1) throw new RangeError(`tar field overflow: ${value}`);
  buf.set(encoder.encode(digits), offset);
  buf[offset + width - 1] = 0;
}

/**
 * The 512-byte ustar header of a regular file (`type` '0', mode 0644) or of a pax extended
 * header (`type` 'x', mode 0, as Python writes it). The name field takes the name's first 100
 * bytes; a longer or non-ASCII name needs a pax `path` record first (see TarWriter).
 */
export function tarHeader(name: string, size: number, type: '0' | 'x' = '0'): Uint8Array {
  const nameBytes = encoder.encode(name).subarray(0, 100);
  const h = new Uint8Array(BLOCK);
  h.set(nameBytes, 0);
  writeOctal(h, 100, 8, type === 'x' ? 0 : 0o644);
  writeOctal(h, 108, 8, 0);
  writeOctal(h, 116, 8, 0);
  writeOctal(h, 124, 12, size);
  writeOctal(h, 136, 12, 0);
  h[156] = type.charCodeAt(0);
  h.set(encoder.encode('ustar\u000000'), 257);
  h.fill(0x20, 148, 156);
  let sum = 0;
  for (const b of h) sum += b;
  h.set(encoder.encode(sum.toString(8).padStart(6, '0')), 148);
  h[154] = 0;
  return h;
}

/** A pax record `"<length> path=<name>\n"`, whose decimal length counts itself. */
function paxPathRecord(name: string): Uint8Array {
  const body = encoder.encode(` path=${name}\n`);
  let length = body.length;
  while (String(length).length + body.length !== length) length = String(length).length + body.length;
  return encoder.encode(`${length} path=${name}\n`);
}

/** Whether a name fits a plain ustar header as Python's PAX writer decides: ASCII, at most 100 bytes. */
function fitsUstar(name: string): boolean {
  return name.length <= 100 && !Array.from(name).some(notAscii);
}

const notAscii = (char: string) => (char.codePointAt(0) as number) > 0x7f;

/** Appends entries to an open file; `finish` writes the end-of-archive blocks and pads to a 10 KiB record. */
export class TarWriter {
  private offset = 0;
  constructor(private readonly handle: FileHandle) {}

  /**
   * Appends a regular file, padded to 512-byte blocks; a name over 100 bytes or not ASCII gets a
   * pax `path` record first. A file of 8 GiB or more throws a RangeError.
   */
  async add(name: string, data: Uint8Array): Promise<void> {
    if (!fitsUstar(name)) {
      const record = paxPathRecord(name);
      await this.write(tarHeader('././@PaxHeader', record.length, 'x'));
      await this.padded(record);
    }
    // Python's header then holds the name's first 100 bytes with '?' for each non-ASCII character.
    await this.write(tarHeader(fitsUstar(name) ? name : Array.from(name, (c) => (notAscii(c) ? '?' : c)).join(''), data.length));
    await this.padded(data);
  }

  /** Writes the two zero end-of-archive blocks and pads to a whole 10 KiB record; the file handle stays open. */
  async finish(): Promise<void> {
    const end = this.offset + 2 * BLOCK;
    await this.write(new Uint8Array(Math.ceil(end / RECORD) * RECORD - this.offset));
  }

  private async padded(data: Uint8Array): Promise<void> {
    await this.write(data);
    const pad = (BLOCK - (data.length % BLOCK)) % BLOCK;
    if (pad > 0) await this.write(new Uint8Array(pad));
  }

  private async write(bytes: Uint8Array): Promise<void> {
    await this.handle.write(bytes);
    this.offset += bytes.length;
  }
}

function cString(buf: Uint8Array, start: number, length: number): string {
  const end = buf.indexOf(0, start);
  return decoder.decode(buf.subarray(start, end < 0 || end > start + length ? start + length : end));
}

function parseNumber(buf: Uint8Array, start: number, length: number): number {
  if ((buf[start] as number) & 0x80) {
    // GNU base-256 for sizes over 8 GiB.
    let value = (buf[start] as number) & 0x7f;
    for (let i = start + 1; i < start + length; i++) value = value * 256 + (buf[i] as number);
    return value;
  }
  const text = cString(buf, start, length).trim();
  if (text === '') return 0;
  if (!/^[0-7]+$/.test(text)) return Number.NaN;
  return Number.parseInt(text, 8);
}

function checksumOk(h: Uint8Array): boolean {
  const stored = parseNumber(h, 148, 8);
  let unsigned = 0;
  let signed = 0;
  for (let i = 0; i < BLOCK; i++) {
    const b = i >= 148 && i < 156 ? 0x20 : (h[i] as number);
    unsigned += b;
    signed += b > 127 ? b - 256 : b;
  }
  return stored === unsigned || stored === signed;
}

/** Reads exactly n bytes at a time from a chunked stream, keeping only what is not yet consumed. */
class ByteReader {
  private chunks: Uint8Array[] = [];
  private buffered = 0;
  private done = false;
  constructor(private readonly source: AsyncIterator<Uint8Array>) {}

  /** Exactly n bytes, or fewer only at end of stream. */
  async read(n: number): Promise<Uint8Array> {
    while (this.buffered < n && !this.done) {
      const next = await this.source.next();
      if (next.done) this.done = true;
      else {
        this.chunks.push(next.value);
        this.buffered += next.value.length;
      }
    }
    const take = Math.min(n, this.buffered);
    const out = new Uint8Array(take);
    let filled = 0;
    while (filled < take) {
      const chunk = this.chunks[0] as Uint8Array;
      const part = Math.min(chunk.length, take - filled);
      out.set(chunk.subarray(0, part), filled);
      filled += part;
      if (part === chunk.length) this.chunks.shift();
      else this.chunks[0] = chunk.subarray(part);
    }
    this.buffered -= take;
    return out;
  }
}

function paxPath(data: Uint8Array): string | undefined {
  // Records are "<len> key=value\n"; only the path matters for WebDataset.
  let found: string | undefined;
  let i = 0;
  while (i < data.length) {
    const space = data.indexOf(0x20, i);
    if (space < 0) break;
    const len = Number.parseInt(decoder.decode(data.subarray(i, space)), 10);
    if (!(len > 0)) break;
    const record = decoder.decode(data.subarray(space + 1, i + len - 1));
    const eq = record.indexOf('=');
    if (record.slice(0, eq) === 'path') found = record.slice(eq + 1);
    i += len;
  }
  return found;
}

/**
 * Streams the regular-file entries of a tar file one at a time (one entry in memory, not
 * the archive). A short read throws TarFormatError('truncated'), a bad header 'corrupt'.
 */
export async function* readTar(file: string, chunkSize = 1 << 20): AsyncGenerator<TarEntry> {
  const stream = createReadStream(file, { highWaterMark: chunkSize });
  try {
    yield* readTarStream(stream, file);
  } finally {
    stream.destroy();
  }
}

/**
 * `readTar` over any stream of byte chunks (a file stream, an HTTP body); `file` names it in
 * errors. Errors of the stream itself pass through unchanged.
 */
export async function* readTarStream(chunks: AsyncIterable<Uint8Array>, file: string): AsyncGenerator<TarEntry> {
  const source = chunks[Symbol.asyncIterator]();
  const reader = new ByteReader(source);
  let longName: string | undefined;
  try {
    for (;;) {
      const header = await reader.read(BLOCK);
      if (header.length === 0) return; // tolerated: no end-of-archive blocks
      if (header.length < BLOCK) throw new TarFormatError('truncated', `${file}: archive ends inside a header`);
      if (header.every((b) => b === 0)) return;
      if (!checksumOk(header)) throw new TarFormatError('corrupt', `${file}: bad header checksum`);
      const size = parseNumber(header, 124, 12);
      if (!Number.isFinite(size)) throw new TarFormatError('corrupt', `${file}: bad size field`);
      const type = String.fromCharCode(header[156] as number);
      const data = await reader.read(size);
      if (data.length < size) throw new TarFormatError('truncated', `${file}: archive ends inside an entry`);
      const pad = (BLOCK - (size % BLOCK)) % BLOCK;
      if (pad > 0 && (await reader.read(pad)).length < pad) throw new TarFormatError('truncated', `${file}: archive ends inside padding`);
      if (type === 'x') {
        longName = paxPath(data) ?? longName;
        continue;
      }
      if (type === 'L') {
        longName = cString(data, 0, data.length);
        continue;
      }
      if (type !== '0' && type !== '\0' && type !== '7') {
        longName = undefined; // directories, links, global pax headers: not sample data
        continue;
      }
      let name = longName;
      if (name === undefined) {
        const prefix = cString(header, 345, 155);
        const base = cString(header, 0, 100);
        name = cString(header, 257, 6) === 'ustar' && prefix !== '' ? `${prefix}/${base}` : base;
      }
      longName = undefined;
      yield { name, data };
    }
  } finally {
    // Closes the file or cancels the download; a stream that already failed may refuse.
    await Promise.resolve(source.return?.()).catch(() => undefined);
  }
}
