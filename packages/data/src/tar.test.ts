import { open, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { readTar, TarFormatError, TarWriter } from './tar.js';

const fixtures = path.join(import.meta.dirname, '..', 'test', 'fixtures');
const members = JSON.parse(await readFile(path.join(fixtures, 'python-members.json'), 'utf8')) as {
  ustar: [string, number][];
  paxKey: string;
  paxNonAscii: string;
};
const tmpFiles: string[] = [];
const tmp = (name: string) => {
  const p = path.join(tmpdir(), `tessera-tar-${process.pid}-${name}`);
  tmpFiles.push(p);
  return p;
};
afterEach(async () => {
  await Promise.all(tmpFiles.splice(0).map((f) => rm(f, { force: true })));
});

async function collect(file: string) {
  const out: { name: string; data: Uint8Array }[] = [];
  for await (const e of readTar(file, 100)) out.push(e);
  return out;
}

describe('ustar', () => {
  it('reads members written by Python tarfile (names, sizes, bytes)', async () => {
    const entries = await collect(path.join(fixtures, 'python-ustar.tar'));
    expect(entries.map((e) => [e.name, e.data.length])).toEqual(members.ustar);
    expect(new TextDecoder().decode(entries[1]?.data)).toContain('狗脸');
  });

  it('writes the same bytes as Python tarfile for the same members', async () => {
    const entries = await collect(path.join(fixtures, 'python-ustar.tar'));
    const out = tmp('same.tar');
    const handle = await open(out, 'w');
    const writer = new TarWriter(handle);
    for (const e of entries) await writer.add(e.name, e.data);
    await writer.finish();
    await handle.close();
    expect(Buffer.compare(await readFile(out), await readFile(path.join(fixtures, 'python-ustar.tar')))).toBe(0);
  });

  it('follows pax path records for names over 100 bytes', async () => {
    const entries = await collect(path.join(fixtures, 'python-pax.tar'));
    expect(entries.map((e) => e.name)).toEqual([`${members.paxKey}.png`, `${members.paxKey}.txt`, members.paxNonAscii]);
    expect(new TextDecoder().decode(entries[1]?.data)).toBe('一只红苹果');
  });

  it('writes the same bytes as Python tarfile in PAX format for long and non-ASCII names', async () => {
    const entries = await collect(path.join(fixtures, 'python-pax.tar'));
    const out = tmp('pax.tar');
    const handle = await open(out, 'w');
    const writer = new TarWriter(handle);
    for (const e of entries) await writer.add(e.name, e.data);
    await writer.finish();
    await handle.close();
    expect(Buffer.compare(await readFile(out), await readFile(path.join(fixtures, 'python-pax.tar')))).toBe(0);
  });

  it('round-trips names of every kind: short, non-ASCII, over 100 bytes, near a pax length digit', async () => {
    const names = ['000000001.png', '狗脸/0001.txt', `${'a'.repeat(150)}.png`, `${'b'.repeat(988)}.txt`, `${'c'.repeat(989)}.txt`];
    const out = tmp('names.tar');
    const handle = await open(out, 'w');
    const writer = new TarWriter(handle);
    for (const [i, name] of names.entries()) await writer.add(name, new TextEncoder().encode(`sample ${i}`));
    await writer.finish();
    await handle.close();
    const entries = await collect(out);
    expect(entries.map((e) => e.name)).toEqual(names);
    expect(entries.map((e) => new TextDecoder().decode(e.data))).toEqual(names.map((_, i) => `sample ${i}`));
  });

  it('reports a truncated archive after the entries before the cut', async () => {
    const bytes = await readFile(path.join(fixtures, 'python-ustar.tar'));
    const out = tmp('cut.tar');
    // Member 0 header + data take blocks 0-1; cut inside member 1's header.
    await writeFile(out, bytes.subarray(0, 1024 + 200));
    const names: string[] = [];
    const error = await (async () => {
      for await (const e of readTar(out)) names.push(e.name);
    })().catch((e) => e);
    expect(names).toEqual(['000000000.png']);
    expect(error).toBeInstanceOf(TarFormatError);
    expect(error.kind).toBe('truncated');
  });

  it('reports a damaged header as corrupt (checksum)', async () => {
    const bytes = new Uint8Array(await readFile(path.join(fixtures, 'python-ustar.tar')));
    bytes[1024 + 3] = 0x41; // a name byte of member 1
    const out = tmp('bad.tar');
    await writeFile(out, bytes);
    const error = await (async () => {
      for await (const _ of readTar(out));
    })().catch((e) => e);
    expect(error.kind).toBe('corrupt');
  });
});
