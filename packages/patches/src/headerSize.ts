/**
 * The upright size of a JPEG or PNG read straight from its header bytes (JPEG: SOF marker and
 * EXIF orientation; PNG: IHDR), which saves a sharp metadata round trip per image. Returns
 * null whenever unsure (other formats, a PNG with an eXIf chunk, odd files): callers then ask
 * sharp.
 */
export function headerSize(bytes: Uint8Array, format: string): { width: number; height: number } | null {
  if (format === 'png') return pngSize(bytes);
  if (format === 'jpeg') return jpegSize(bytes);
  return null;
}

const be16 = (b: Uint8Array, i: number) => ((b[i] as number) << 8) | (b[i + 1] as number);
const be32 = (b: Uint8Array, i: number) => (be16(b, i) * 65536 + be16(b, i + 2)) >>> 0;

function pngSize(b: Uint8Array): { width: number; height: number } | null {
  if (b.length < 33) return null;
  const width = be32(b, 16);
  const height = be32(b, 20);
  // An eXIf chunk may carry an orientation: leave those to sharp.
  for (let i = 8; i + 8 <= b.length; ) {
    const length = be32(b, i);
    const type = String.fromCharCode(...b.subarray(i + 4, i + 8));
    if (type === 'eXIf') return null;
    if (type === 'IDAT' || type === 'IEND') break;
    i += 12 + length;
  }
  return width > 0 && height > 0 ? { width, height } : null;
}

function jpegSize(b: Uint8Array): { width: number; height: number } | null {
  let orientation = 1;
  for (let i = 2; i + 4 <= b.length; ) {
    if (b[i] !== 0xff) return null;
    const marker = b[i + 1] as number;
    if (marker === 0xff) {
      i++;
      continue;
    }
    if (marker === 0xd8 || marker === 0x01 || (marker >= 0xd0 && marker <= 0xd7)) {
      i += 2;
      continue;
    }
    const length = be16(b, i + 2);
    if (marker === 0xe1 && String.fromCharCode(...b.subarray(i + 4, i + 10)) === 'Exif\0\0') {
      const found = exifOrientation(b.subarray(i + 10, i + 2 + length));
      if (found === null) return null;
      orientation = found;
    }
    const isSof = marker >= 0xc0 && marker <= 0xcf && marker !== 0xc4 && marker !== 0xc8 && marker !== 0xcc;
    if (isSof) {
      const height = be16(b, i + 5);
      const width = be16(b, i + 7);
      if (!width || !height) return null;
      return orientation >= 5 && orientation <= 8 ? { width: height, height: width } : { width, height };
    }
    if (marker === 0xda) return null;
    i += 2 + length;
  }
  return null;
}

/** Orientation tag (0x0112) of IFD0 in a TIFF-structured EXIF block; 1 when absent, null when unreadable. */
function exifOrientation(t: Uint8Array): number | null {
  if (t.length < 8) return null;
  const little = t[0] === 0x49 && t[1] === 0x49;
  if (!little && !(t[0] === 0x4d && t[1] === 0x4d)) return null;
  const u16 = (i: number) => (little ? (t[i] as number) | ((t[i + 1] as number) << 8) : be16(t, i));
  const u32 = (i: number) => (little ? (u16(i) + u16(i + 2) * 65536) >>> 0 : be32(t, i));
  const ifd = u32(4);
  if (ifd + 2 > t.length) return null;
  const count = u16(ifd);
  for (let k = 0; k < count; k++) {
    const entry = ifd + 2 + k * 12;
    if (entry + 12 > t.length) return null;
    if (u16(entry) === 0x0112) return u16(entry + 8);
  }
  return 1;
}
