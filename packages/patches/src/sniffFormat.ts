/**
 * Names the format of a file from its first bytes, so that a refusal can say "this is a PDF,
 * which we cannot decode" rather than "unknown bytes", and so that SVG is recognised before
 * it reaches the rasteriser.
 */
export type SniffedFormat =
  | { kind: 'supported'; format: 'jpeg' | 'png' | 'gif' | 'webp' | 'tiff' | 'avif' | 'svg' }
  | { kind: 'unsupported'; format: string }
  | { kind: 'unknown' };

const ascii = (bytes: Uint8Array, start: number, end: number) => String.fromCharCode(...bytes.subarray(start, end));

const HEVC_BRANDS = new Set(['heic', 'heix', 'hevc', 'hevx', 'heim', 'heis', 'hevm', 'hevs']);
const AVIF_BRANDS = new Set(['avif', 'avis', 'mif1', 'msf1']);

export function sniffFormat(bytes: Uint8Array): SniffedFormat {
  const b = (i: number) => bytes[i] ?? -1;
  if (b(0) === 0xff && b(1) === 0xd8 && b(2) === 0xff) return { kind: 'supported', format: 'jpeg' };
  if (b(0) === 0x89 && ascii(bytes, 1, 4) === 'PNG') return { kind: 'supported', format: 'png' };
  if (ascii(bytes, 0, 4) === 'GIF8') return { kind: 'supported', format: 'gif' };
  if (ascii(bytes, 0, 4) === 'RIFF' && ascii(bytes, 8, 12) === 'WEBP') return { kind: 'supported', format: 'webp' };
  const head4 = ascii(bytes, 0, 4);
  if (head4 === 'II*\0' || head4 === 'MM\0*') return { kind: 'supported', format: 'tiff' };
  if (ascii(bytes, 4, 8) === 'ftyp') {
    const brands = [ascii(bytes, 8, 12)];
    const boxSize = (b(0) << 24) | (b(1) << 16) | (b(2) << 8) | b(3);
    for (let i = 16; i + 4 <= Math.min(boxSize, bytes.length); i += 4) brands.push(ascii(bytes, i, i + 4));
    if (brands.some((x) => HEVC_BRANDS.has(x)) && !brands.includes('avif')) return { kind: 'unsupported', format: 'HEIC (HEVC)' };
    if (brands.some((x) => AVIF_BRANDS.has(x))) return { kind: 'supported', format: 'avif' };
    return { kind: 'unsupported', format: `ISO media (${brands[0]}), e.g. a video` };
  }
  if (head4 === '%PDF') return { kind: 'unsupported', format: 'PDF' };
  if (head4 === '8BPS') return { kind: 'unsupported', format: 'Photoshop PSD' };
  if (ascii(bytes, 0, 2) === 'BM' && bytes.length > 14) return { kind: 'unsupported', format: 'BMP' };
  if (b(0) === 0 && b(1) === 0 && (b(2) === 1 || b(2) === 2) && b(3) === 0) return { kind: 'unsupported', format: 'ICO/CUR' };
  if (ascii(bytes, 4, 8) === 'jP  ' || (b(0) === 0xff && b(1) === 0x4f && b(2) === 0xff && b(3) === 0x51)) {
    return { kind: 'unsupported', format: 'JPEG 2000' };
  }
  if ((b(0) === 0xff && b(1) === 0x0a) || ascii(bytes, 4, 8) === 'JXL ') return { kind: 'unsupported', format: 'JPEG XL' };
  if (head4 === 'qoif') return { kind: 'unsupported', format: 'QOI' };
  if (head4 === 'DDS ') return { kind: 'unsupported', format: 'DDS' };
  if (b(0) === 0x76 && b(1) === 0x2f && b(2) === 0x31 && b(3) === 0x01) return { kind: 'unsupported', format: 'OpenEXR' };
  if (/^P[1-7]\s/.test(ascii(bytes, 0, 3))) return { kind: 'unsupported', format: 'Netpbm (PBM/PGM/PPM/PAM)' };
  const text = new TextDecoder('utf-8', { fatal: false }).decode(bytes.subarray(0, 4096)).replace(/^\uFEFF/, '');
  if (/^\s*(<\?xml[^>]*>\s*)?(<!--[\s\S]*?-->\s*|<!DOCTYPE[^>[]*(\[[\s\S]*?\])?\s*>\s*)*<svg[\s>]/i.test(text)) {
    return { kind: 'supported', format: 'svg' };
  }
  return { kind: 'unknown' };
}

/**
 * External resources an SVG names: href/xlink:href/src values and url(...) that are not
 * fragment (#id) or data: references, CSS @import, XInclude, and any DTD entity declaration
 * (external entities read files; internal ones enable "billion laughs" expansion).
 */
export function svgExternalReferences(svg: string): string[] {
  const found: string[] = [];
  const local = (ref: string) => ref.startsWith('#') || /^data:/i.test(ref);
  for (const m of svg.matchAll(/\b(?:xlink:)?(?:href|src)\s*=\s*(["'])([\s\S]*?)\1/gi)) {
    const ref = (m[2] as string).trim();
    if (!local(ref)) found.push(ref);
  }
  for (const m of svg.matchAll(/url\(\s*(["']?)([^"')]*)\1\s*\)/gi)) {
    const ref = (m[2] as string).trim();
    if (!local(ref)) found.push(ref);
  }
  for (const m of svg.matchAll(/@import\s+[^;]+/gi)) found.push(m[0]);
  if (/<(?:\w+:)?include\b/i.test(svg)) found.push('XInclude');
  if (/<!ENTITY/i.test(svg)) found.push('DTD entity declaration');
  return found;
}
