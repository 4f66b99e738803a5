/** One parsed CSV row with the 1-based line it starts on, or a parse problem. */
export type CsvRow = { line: number; fields: string[] } | { line: number; error: string };

/**
 * RFC 4180 rows: quoted fields may hold the separator, doubled quotes and newlines.
 * An unterminated quote makes the rest of the file one bad row, reported, never thrown.
 */
export function* parseCsv(text: string, separator: string): Generator<CsvRow> {
  let i = 0;
  let line = 1;
  const n = text.length;
  if (text.charCodeAt(0) === 0xfeff) i = 1;
  while (i < n) {
    const startLine = line;
    const fields: string[] = [];
    let field = '';
    let quoted = false;
    let atFieldStart = true;
    let error: string | null = null;
    for (; i < n; i++) {
      const c = text[i] as string;
      if (quoted) {
        if (c === '"') {
          if (text[i + 1] === '"') {
            field += '"';
            i++;
          } else {
            quoted = false;
          }
        } else {
          if (c === '\n') line++;
          field += c;
        }
      } else if (c === '"' && atFieldStart) {
        quoted = true;
        atFieldStart = false;
      } else if (c === separator) {
        fields.push(field);
        field = '';
        atFieldStart = true;
      } else if (c === '\n' || c === '\r') {
        if (c === '\r' && text[i + 1] === '\n') i++;
        i++;
        line++;
        break;
      } else {
        field += c;
        atFieldStart = false;
      }
    }
    if (quoted) error = 'unterminated quoted field';
    fields.push(field);
    if (error !== null) yield { line: startLine, error };
    else if (!(fields.length === 1 && fields[0] === '')) yield { line: startLine, fields };
  }
}
