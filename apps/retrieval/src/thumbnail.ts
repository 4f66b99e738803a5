import sharp from 'sharp';

/** Largest input image a thumbnail is made of, in pixels (sharp's guard against decompression bombs). */
const MAX_INPUT_PIXELS = 50_000_000;

/** How `thumbnailPng` fits an image into its square. */
export interface ThumbnailOptions {
  /** Scale small images up to fill the square (default false: they keep their size). */
  enlarge?: boolean;
}

/**
 * A PNG thumbnail of an image file (EXIF orientation applied) that fits inside `size` x `size`,
 * aspect ratio kept: what `tessera serve` returns for `/images/:id` and what the contact sheet
 * inlines.
 */
export async function thumbnailPng(file: string, size: number, options: ThumbnailOptions = {}): Promise<Buffer> {
  return sharp(file, { limitInputPixels: MAX_INPUT_PIXELS })
    .rotate()
    .resize(size, size, { fit: 'inside', withoutEnlargement: !options.enlarge })
    .png()
    .toBuffer();
}
