#!/usr/bin/env node
// Records each package's public API: every export of packages/<pkg>/src/index.ts with its
// signature, as the type checker sees it, in api/<pkg>.api.md. With --check it regenerates in
// memory and fails on any difference, so a breaking change shows up as a diff in review.
// One program over all packages, always in the same order, keeps the printed types stable.
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import ts from 'typescript';

const root = path.resolve(import.meta.dirname, '../..');
const PACKAGES = [
  'base',
  'core',
  'native',
  'tokenizer',
  'patches',
  'transformer',
  'objectives',
  'models',
  'data',
  'train',
  'eval',
  'index',
];
const FORMAT = ts.TypeFormatFlags.NoTruncation | ts.TypeFormatFlags.UseSingleQuotesForStringLiteralType;

const config = ts.getParsedCommandLineOfConfigFile(
  path.join(root, 'tsconfig.docs.json'),
  {},
  { ...ts.sys, onUnRecoverableConfigFileDiagnostic: () => {} },
);
const entries = PACKAGES.map((p) => path.join(root, 'packages', p, 'src', 'index.ts'));
const program = ts.createProgram({ rootNames: entries, options: config.options });
const checker = program.getTypeChecker();

const isHidden = (decl) =>
  (ts.getCombinedModifierFlags(decl) & (ts.ModifierFlags.Private | ts.ModifierFlags.Protected)) !== 0 ||
  (decl.name && ts.isPrivateIdentifier(decl.name)) ||
  ts.getJSDocTags(decl).some((t) => t.tagName.text === 'internal');

const typeParams = (decl) => (decl.typeParameters?.length ? `<${decl.typeParameters.map((t) => t.getText()).join(', ')}>` : '');
const heritage = (decl) => (decl.heritageClauses ?? []).map((h) => ` ${h.getText().replace(/\s+/g, ' ')}`).join('');

/** Public members declared by this class or interface itself (inherited ones are listed where they are declared). */
function memberLines(owner, type, isStatic) {
  const lines = [];
  for (const prop of checker.getPropertiesOfType(type)) {
    const decls = (prop.declarations ?? []).filter((d) => d.parent === owner && !isHidden(d));
    if (decls.length === 0 || prop.name === 'prototype') continue;
    const pre = `  ${isStatic ? 'static ' : ''}`;
    const d = decls[0];
    if (ts.isMethodDeclaration(d) || ts.isMethodSignature(d)) {
      for (const sig of checker.getTypeOfSymbol(prop).getCallSignatures())
        lines.push(`${pre}${prop.name}${checker.signatureToString(sig, undefined, FORMAT)}`);
    } else if (ts.isGetAccessorDeclaration(d) || ts.isSetAccessorDeclaration(d)) {
      const readonly = !decls.some(ts.isSetAccessorDeclaration);
      lines.push(`${pre}${readonly ? 'get ' : ''}${prop.name}: ${checker.typeToString(checker.getTypeOfSymbol(prop), undefined, FORMAT)}`);
    } else {
      const readonly = ts.getCombinedModifierFlags(d) & ts.ModifierFlags.Readonly ? 'readonly ' : '';
      const optional = prop.flags & ts.SymbolFlags.Optional ? '?' : '';
      lines.push(`${pre}${readonly}${prop.name}${optional}: ${checker.typeToString(checker.getTypeOfSymbol(prop), undefined, FORMAT)}`);
    }
  }
  return lines;
}

function describe(name, symbol) {
  const out = [];
  for (const decl of symbol.declarations ?? []) {
    if (ts.isFunctionDeclaration(decl)) {
      if (decl !== symbol.declarations.find(ts.isFunctionDeclaration)) continue; // overloads: all signatures printed once
      for (const sig of checker.getTypeOfSymbol(symbol).getCallSignatures())
        out.push(`export function ${name}${checker.signatureToString(sig, undefined, FORMAT)}`);
    } else if (ts.isClassDeclaration(decl)) {
      const abstract = ts.getCombinedModifierFlags(decl) & ts.ModifierFlags.Abstract ? 'abstract ' : '';
      const lines = [`export ${abstract}class ${name}${typeParams(decl)}${heritage(decl)} {`];
      for (const sig of checker.getTypeOfSymbol(symbol).getConstructSignatures()) {
        const ctor = sig.declaration;
        if (ctor && ts.isConstructorDeclaration(ctor) && isHidden(ctor)) continue;
        if (!ctor || ctor.parent === decl)
          lines.push(`  constructor${checker.signatureToString(sig, undefined, FORMAT).replace(/: [^:]*$/, '')}`);
      }
      lines.push(...memberLines(decl, checker.getTypeOfSymbol(symbol), true));
      lines.push(...memberLines(decl, checker.getDeclaredTypeOfSymbol(symbol), false));
      out.push(`${lines.join('\n')}\n}`);
    } else if (ts.isInterfaceDeclaration(decl)) {
      const lines = [`export interface ${name}${typeParams(decl)}${heritage(decl)} {`];
      for (const m of decl.members) {
        if (ts.isCallSignatureDeclaration(m) || ts.isIndexSignatureDeclaration(m) || ts.isConstructSignatureDeclaration(m))
          lines.push(`  ${m.getText().replace(/\s+/g, ' ')}`);
      }
      lines.push(...memberLines(decl, checker.getDeclaredTypeOfSymbol(symbol), false));
      out.push(`${lines.join('\n')}\n}`);
    } else if (ts.isTypeAliasDeclaration(decl)) {
      const type = checker.getTypeAtLocation(decl.name);
      out.push(`export type ${name}${typeParams(decl)} = ${checker.typeToString(type, decl, FORMAT | ts.TypeFormatFlags.InTypeAlias)}`);
    } else if (ts.isVariableDeclaration(decl)) {
      const kind = decl.parent.flags & ts.NodeFlags.Const ? 'const' : 'let';
      out.push(`export ${kind} ${name}: ${checker.typeToString(checker.getTypeOfSymbol(symbol), undefined, FORMAT)}`);
    } else if (ts.isEnumDeclaration(decl)) {
      out.push(`export enum ${name} { ${decl.members.map((m) => m.name.getText()).join(', ')} }`);
    } else if (ts.isSourceFile(decl) || ts.isModuleDeclaration(decl)) {
      const file = ts.isSourceFile(decl) ? decl.fileName : decl.getSourceFile().fileName;
      const from = file.includes('/node_modules/')
        ? file.slice(file.lastIndexOf('/node_modules/') + 14).replace(/\/dist\/.*$/, '')
        : path.relative(root, file);
      out.push(`export * as ${name} from '${from}'`);
    }
  }
  return out;
}

/** `import("/abs/packages/base/src/random").X` names the package instead, so the report does not depend on the checkout path. */
const portable = (text) =>
  text.replace(/import\("([^"]+)"\)/g, (_, file) => {
    const m = /\/packages\/([^/]+)\/src\//.exec(file) ?? /\/node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(file);
    return `import('${m ? (m[0].includes('/packages/') ? `@tessera/${m[1]}` : m[1]) : file}')`;
  });

function surface(pkg, entry) {
  const sf = program.getSourceFile(entry);
  const exports = checker
    .getExportsOfModule(checker.getSymbolAtLocation(sf))
    .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  const blocks = exports
    .flatMap((exp) => describe(exp.name, exp.flags & ts.SymbolFlags.Alias ? checker.getAliasedSymbol(exp) : exp))
    .map(portable);
  return `# @tessera/${pkg} API\n\nGenerated by \`npm run api\` from packages/${pkg}/src/index.ts; do not edit.\n\n\`\`\`ts\n${blocks.join('\n\n')}\n\`\`\`\n`;
}

const check = process.argv.includes('--check');
let stale = 0;
for (const [i, pkg] of PACKAGES.entries()) {
  const file = path.join(root, 'api', `${pkg}.api.md`);
  const text = surface(pkg, entries[i]);
  if (!check) {
    writeFileSync(file, text);
    continue;
  }
  let old = '';
  try {
    old = readFileSync(file, 'utf8');
  } catch {}
  if (old === text) continue;
  stale++;
  const was = new Set(old.split('\n'));
  const now = new Set(text.split('\n'));
  const removed = old.split('\n').filter((l) => !now.has(l));
  const added = text.split('\n').filter((l) => !was.has(l));
  console.error(`@tessera/${pkg}: public API differs from api/${pkg}.api.md`);
  for (const l of removed.slice(0, 20)) console.error(`  - ${l}`);
  for (const l of added.slice(0, 20)) console.error(`  + ${l}`);
}
if (stale) {
  console.error(`\n${stale} API report(s) out of date. If the change is intended, run \`npm run api\`, commit api/*.api.md,`);
  console.error(
    'and add a changeset (`npx changeset`): a removed line, or a changed one that old callers cannot satisfy, is a breaking change (major).',
  );
  process.exit(1);
}
