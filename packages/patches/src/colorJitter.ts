/**
 * torchvision's colour adjustments on float RGB in [0, 1], interleaved HWC, in place
 * (transcribed from torchvision.transforms.functional_tensor). Gray is
 * 0.2989 R + 0.587 G + 0.114 B, as torchvision's rgb_to_grayscale.
 */
const gray = (r: number, g: number, b: number) => 0.2989 * r + 0.587 * g + 0.114 * b;
const clamp01 = (x: number) => Math.min(Math.max(x, 0), 1);

/** Blend with black: x * f, clamped. */
export function adjustBrightness(pixels: Float32Array, factor: number): void {
  for (let i = 0; i < pixels.length; i++) pixels[i] = clamp01(factor * (pixels[i] as number));
}

/** Blend with the image's mean gray level. */
export function adjustContrast(pixels: Float32Array, factor: number): void {
  let sum = 0;
  for (let i = 0; i < pixels.length; i += 3) sum += gray(pixels[i] as number, pixels[i + 1] as number, pixels[i + 2] as number);
  const mean = sum / (pixels.length / 3);
  for (let i = 0; i < pixels.length; i++) pixels[i] = clamp01(factor * (pixels[i] as number) + (1 - factor) * mean);
}

/** Blend each pixel with its own gray level. */
export function adjustSaturation(pixels: Float32Array, factor: number): void {
  for (let i = 0; i < pixels.length; i += 3) {
    const g = gray(pixels[i] as number, pixels[i + 1] as number, pixels[i + 2] as number);
    for (let k = 0; k < 3; k++) pixels[i + k] = clamp01(factor * (pixels[i + k] as number) + (1 - factor) * g);
  }
}

/** Rotates hue by `shift` turns (-0.5..0.5) through HSV, as torchvision's _rgb2hsv/_hsv2rgb. */
export function adjustHue(pixels: Float32Array, shift: number): void {
  for (let i = 0; i < pixels.length; i += 3) {
    const r = pixels[i] as number;
    const g = pixels[i + 1] as number;
    const b = pixels[i + 2] as number;
    const maxc = Math.max(r, g, b);
    const minc = Math.min(r, g, b);
    const eq = maxc === minc;
    const cr = maxc - minc;
    const s = cr / (eq ? 1 : maxc);
    const div = eq ? 1 : cr;
    const rc = (maxc - r) / div;
    const gc = (maxc - g) / div;
    const bc = (maxc - b) / div;
    let h: number;
    if (maxc === r) h = bc - gc;
    else if (maxc === g) h = 2 + rc - bc;
    else h = 4 + gc - rc;
    h = (((h / 6 + 1) % 1) + shift) % 1;
    if (h < 0) h += 1;
    const v = maxc;
    const sector = Math.floor(h * 6);
    const f = h * 6 - sector;
    const p = clamp01(v * (1 - s));
    const q = clamp01(v * (1 - s * f));
    const t = clamp01(v * (1 - s * (1 - f)));
    const rgb = [
      [v, t, p],
      [q, v, p],
      [p, v, t],
      [p, q, v],
      [t, p, v],
      [v, p, q],
    ][sector % 6] as [number, number, number];
    pixels[i] = rgb[0];
    pixels[i + 1] = rgb[1];
    pixels[i + 2] = rgb[2];
  }
}
