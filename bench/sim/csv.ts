/**
 * Just enough CSV for the shared data sets (RFC 4180 quoting, no embedded newlines): the files are read once
 * per training run, so a dependency-free parser is simpler than adding a package for it.
 */
import { readFile } from 'node:fs/promises';
import { gunzipSync } from 'node:zlib';

export function parseCsvLine(line: string): string[] {
  const out: string[] = [];
  let i = 0;
  while (i <= line.length) {
    if (line[i] === '"') {
      let v = '';
      i++;
      while (i < line.length) {
        if (line[i] === '"') {
          if (line[i + 1] === '"') {
            v += '"';
            i += 2;
          } else {
            i++;
            break;
          }
        } else v += line[i++];
      }
      out.push(v);
      i++; // the comma after the closing quote
    } else {
      const comma = line.indexOf(',', i);
      const end = comma === -1 ? line.length : comma;
      out.push(line.slice(i, end));
      i = end + 1;
    }
  }
  return out;
}

/** Rows of a CSV file (gunzipped when the name ends in .gz) as objects keyed by the header's columns. */
export async function readCsv(file: string): Promise<Record<string, string>[]> {
  const raw = await readFile(file);
  const text = (file.endsWith('.gz') ? gunzipSync(raw) : raw).toString('utf8');
  const lines = text.split('\n');
  const header = parseCsvLine(lines[0].replace(/\r$/, ''));
  const rows: Record<string, string>[] = [];
  for (let k = 1; k < lines.length; k++) {
    const line = lines[k].replace(/\r$/, '');
    if (line.length === 0) continue;
    const cells = parseCsvLine(line);
    const row: Record<string, string> = {};
    for (let c = 0; c < header.length; c++) row[header[c]] = cells[c] ?? '';
    rows.push(row);
  }
  return rows;
}
