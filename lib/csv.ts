// CSV as RFC 4180 writes it: fields separated by commas, records by CRLF (LF and lone CR accepted too), a field quoted
// with double quotes when it holds a comma, a quote or a line break, and a quote inside a quoted field doubled. A UTF-8
// byte order mark at the start is dropped. Every record carries the line it starts on, so a problem can be reported as
// `file:line: column: what is wrong`.

export interface CsvRecord {
  /** The 1-based line of the file the record starts on (a quoted field may carry it over several lines). */
  line: number;
  fields: string[];
}

export interface CsvProblem {
  line: number;
  message: string;
}

export interface ParsedCsv {
  records: CsvRecord[];
  problems: CsvProblem[];
}

const QUOTE = 0x22;
const COMMA = 0x2c;
const CR = 0x0d;
const LF = 0x0a;

/**
 * Splits CSV text into records of fields. Malformed input (a quote inside an unquoted field, text after a closing
 * quote, a quoted field never closed) is reported with its line and read as leniently as it can be, so every problem
 * of a file is found in one pass. Blank lines are skipped.
 *
 * ```ts
 * parseCsv('\uFEFFcode,name\r\nE1,"Zhang, ""Wei"""\r\n').records // [{ line: 1, fields: ['code', 'name'] }, { line: 2, fields: ['E1', 'Zhang, "Wei"'] }]
 * ```
 */
export function parseCsv(text: string): ParsedCsv {
  const source = text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
  const records: CsvRecord[] = [];
  const problems: CsvProblem[] = [];
  const length = source.length;
  let line = 1;
  let position = 0;

  while (position < length) {
    const startLine = line;
    const fields: string[] = [];
    let blank = true;
    // One record: fields until an unquoted line break or the end of the text.
    for (;;) {
      let value = '';
      if (source.charCodeAt(position) === QUOTE) {
        blank = false;
        position++;
        let closed = false;
        while (position < length) {
          const code = source.charCodeAt(position);
          if (code === QUOTE) {
            if (source.charCodeAt(position + 1) === QUOTE) {
              value += '"';
              position += 2;
              continue;
            }
            position++;
            closed = true;
            break;
          }
          const next = source.indexOf('"', position);
          const end = next === -1 ? length : next;
          const chunk = source.slice(position, end);
          line += countLineBreaks(chunk);
          value += chunk;
          position = end;
        }
        if (!closed)
          problems.push({ line: startLine, message: 'a quoted field is never closed: add the closing double quote' });
        // After the closing quote only a separator or a line break may follow.
        const stray = position;
        while (position < length && !isSeparator(source.charCodeAt(position))) position++;
        if (position > stray) {
          problems.push({
            line,
            message: 'text after a closing quote: quote the whole field and double the quotes inside it',
          });
          value += source.slice(stray, position);
        }
      } else {
        const start = position;
        while (position < length && !isSeparator(source.charCodeAt(position))) position++;
        value = source.slice(start, position);
        if (value.length > 0) blank = false;
        if (value.includes('"'))
          problems.push({
            line,
            message: 'a double quote inside an unquoted field: quote the field and double the quote',
          });
      }
      fields.push(value);
      if (position < length && source.charCodeAt(position) === COMMA) {
        blank = false;
        position++;
        continue;
      }
      break;
    }
    // The record's line break: CRLF, LF or a lone CR.
    if (source.charCodeAt(position) === CR) position++;
    if (source.charCodeAt(position) === LF) position++;
    line++;
    if (!blank) records.push({ line: startLine, fields });
  }
  return { records, problems };
}

function isSeparator(code: number): boolean {
  return code === COMMA || code === LF || code === CR;
}

function countLineBreaks(text: string): number {
  let count = 0;
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    if (code === LF) count++;
    else if (code === CR && text.charCodeAt(i + 1) !== LF) count++;
  }
  return count;
}

/** One field as CSV writes it: quoted when it holds a comma, a quote, a line break, or space at either end. */
export function csvField(value: string): string {
  return /[",\r\n]|^\s|\s$/.test(value) ? `"${value.replace(/"/g, '""')}"` : value;
}

/** Records as CSV text: CRLF after every record (RFC 4180). */
export function toCsv(records: readonly (readonly string[])[]): string {
  return records.map((record) => record.map(csvField).join(',')).join('\r\n') + '\r\n';
}

export interface CsvTableRow {
  line: number;
  /** The row's values by column name. */
  values: Record<string, string>;
}

/**
 * A CSV file with a header row naming the given columns (in any order; extra columns are a problem, as a misspelt one
 * would silently be lost). Every problem is `file:line: column: what is wrong`; a ragged row is reported and skipped.
 */
export function readCsvTable(
  file: string,
  text: string,
  columns: readonly string[],
): { rows: CsvTableRow[]; problems: string[] } {
  const parsed = parseCsv(text);
  const problems = parsed.problems.map((problem) => `${file}:${problem.line}: ${problem.message}`);
  const [header, ...body] = parsed.records;
  if (!header)
    return {
      rows: [],
      problems: [
        ...problems,
        `${file}:1: header: the file is empty; its first line must be the header ${columns.join(',')}`,
      ],
    };
  const names = header.fields.map((name) => name.trim());
  const missing = columns.filter((column) => !names.includes(column));
  const unknown = names.filter((name) => !columns.includes(name));
  if (missing.length > 0 || unknown.length > 0 || names.length !== new Set(names).size) {
    const detail = [
      missing.length ? `missing ${missing.join(', ')}` : '',
      unknown.length ? `unknown ${unknown.join(', ')}` : '',
      names.length !== new Set(names).size ? 'a column named twice' : '',
    ]
      .filter(Boolean)
      .join('; ');
    return {
      rows: [],
      problems: [...problems, `${file}:${header.line}: header: ${detail}; the header must be ${columns.join(',')}`],
    };
  }
  const rows: CsvTableRow[] = [];
  for (const record of body) {
    if (record.fields.length !== names.length) {
      const short = record.fields.length < names.length;
      const column = short ? names[record.fields.length] : names[names.length - 1];
      problems.push(
        `${file}:${record.line}: ${column}: the row has ${record.fields.length} fields, the header ${names.length}; ${short ? 'add the missing fields (empty ones too)' : 'quote fields that hold commas'}`,
      );
      continue;
    }
    rows.push({
      line: record.line,
      values: Object.fromEntries(names.map((name, index) => [name, record.fields[index]])),
    });
  }
  return { rows, problems };
}
