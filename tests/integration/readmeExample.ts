import { readFileSync } from 'node:fs';

/** The marker a README puts on the line before the code block that the packed-install test runs. */
export const EXAMPLE_MARKER = '<!-- example -->';

/**
 * The JavaScript of the ```js block right after `<!-- example -->` in a README. The block runs as
 * written (an ES module in a project that installed the package), so it cannot rot unnoticed.
 */
export function readmeExample(readmePath: string): string {
  const text = readFileSync(readmePath, 'utf8');
  const match = /<!-- example -->\s*\n```js\n([\s\S]*?)\n```/.exec(text);
  if (!match) throw new Error(`${readmePath}: no \`\`\`js block after ${EXAMPLE_MARKER}`);
  return `${match[1]}\n`;
}
