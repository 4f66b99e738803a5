#!/usr/bin/env node
// Runs the built CLI (dist/) when present; in a source checkout, the TypeScript sources in this
// same process through tsx's loader, with the `development` export condition so that sibling
// packages resolve to their sources. One process: a signal sent to `tessera` (Ctrl-C, `kill`)
// reaches the command itself, and the exit status is the command's.
import { existsSync } from 'node:fs';
import { register } from 'node:module';

const dist = new URL('../dist/main.js', import.meta.url);
if (existsSync(dist)) {
  await import(dist.href);
} else {
  const { register: registerTsx } = await import('tsx/esm/api');
  registerTsx();
  // Registered last, so it runs first: every resolution, tsx's included, sees `development`.
  const developmentCondition = `export async function resolve(specifier, context, next) {
  return next(specifier, { ...context, conditions: [...new Set([...context.conditions, 'development'])] });
}`;
  register(`data:text/javascript,${encodeURIComponent(developmentCondition)}`);
  await import(new URL('../src/main.ts', import.meta.url).href);
}
