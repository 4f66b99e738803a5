import { readFileSync } from 'node:fs';

/** The marker a README puts on the line before the code block that the packed-install test runs. */
export const EXAMPLE_MARKER = '<!-- example -->';

/** The marker before the README's "In the browser" block, which tests/e2e/browserBundle.test.ts runs in Chromium. */
export const BROWSER_EXAMPLE_MARKER = '<!-- browser-example -->';

/**
 * The JavaScript of the ```js block right after `marker` (default `<!-- example -->`) in a README.
 * The block runs as written (an ES module in a project that installed the package, or bundled into
 * a page), so it cannot rot unnoticed.
 */
export function readmeExample(readmePath: string, marker: string = EXAMPLE_MARKER): string {
  const text = readFileSync(readmePath, 'utf8');
  const at = text.indexOf(marker);
  const match = at < 0 ? null : /^\s*\n```js\n([\s\S]*?)\n```/.exec(text.slice(at + marker.length));
  if (!match) throw new Error(`${readmePath}: no \`\`\`js block after ${marker}`);
  return `${match[1]}\n`;
}
