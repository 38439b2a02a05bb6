// The CSV reader of the pool import (lib/csv.ts): RFC 4180 quoting, line breaks of every kind, the BOM, ragged rows.
import { parseCsv, readCsvTable, toCsv } from '../lib/csv';

describe('parseCsv', () => {
  it('reads quoted fields with commas, doubled quotes and line breaks, numbering records by the line they start on', () => {
    const parsed = parseCsv('a,b,c\r\n"x, y","say ""hi""","two\r\nlines"\r\nlast,,\r\n');
    expect(parsed.problems).toEqual([]);
    expect(parsed.records).toEqual([
      { line: 1, fields: ['a', 'b', 'c'] },
      { line: 2, fields: ['x, y', 'say "hi"', 'two\r\nlines'] },
      { line: 4, fields: ['last', '', ''] },
    ]);
  });

  it('drops a UTF-8 BOM and accepts LF, CRLF and lone CR, with or without a final line break', () => {
    for (const text of ['\uFEFF代码,姓名\n专家1,张三', '代码,姓名\r\n专家1,张三\r\n', '代码,姓名\r专家1,张三\r']) {
      expect(parseCsv(text).records).toEqual([
        { line: 1, fields: ['代码', '姓名'] },
        { line: 2, fields: ['专家1', '张三'] },
      ]);
    }
  });

  it('keeps an empty quoted field, skips blank lines and counts them', () => {
    expect(parseCsv('a\n\n""\n\nb').records).toEqual([
      { line: 1, fields: ['a'] },
      { line: 3, fields: [''] },
      { line: 5, fields: ['b'] },
    ]);
  });

  it('reports a quote inside an unquoted field, text after a closing quote and an unclosed quote, with their lines', () => {
    expect(parseCsv('ok\nab"c\n"x"y\n"never closed\nmore').problems.map((problem) => problem.line)).toEqual([2, 3, 4]);
  });

  it('reads back what toCsv writes', () => {
    const records = [
      ['code', 'note'],
      ['E-1', 'a, "b"\nc'],
      ['E-2', ' padded '],
    ];
    expect(parseCsv(toCsv(records)).records.map((record) => record.fields)).toEqual(records);
  });
});

describe('readCsvTable', () => {
  it('maps rows by header name and reports a ragged row as file:line: column', () => {
    const table = readCsvTable('x.csv', 'code,name\nA,甲\nB\nC,丙,extra\n"D","丁"\n', ['code', 'name']);
    expect(table.rows.map((row) => [row.line, row.values.code, row.values.name])).toEqual([
      [2, 'A', '甲'],
      [5, 'D', '丁'],
    ]);
    expect(table.problems).toEqual([
      'x.csv:3: name: the row has 1 fields, the header 2; add the missing fields (empty ones too)',
      'x.csv:4: name: the row has 3 fields, the header 2; quote fields that hold commas',
    ]);
  });

  it('refuses a header that lacks a column or names an unknown one', () => {
    expect(readCsvTable('x.csv', 'code,nmae\nA,B\n', ['code', 'name']).problems).toEqual([
      'x.csv:1: header: missing name; unknown nmae; the header must be code,name',
    ]);
  });
});
