// A horizontal bar chart for the terminal: one line per row, label padded, bar scaled to the largest
// value in eighth-of-a-character steps (Unicode block elements), value last. A non-zero value always
// gets at least a sliver, so "few" never looks like "none".
const EIGHTHS = ['', '▏', '▎', '▍', '▌', '▋', '▊', '▉'];
const FULL = '█';

export interface BarRow {
  label: string;
  value: number;
}

export function bar(value: number, max: number, width: number): string {
  if (value <= 0 || max <= 0) return '';
  const eighths = Math.max(1, Math.round((value / max) * width * 8));
  return FULL.repeat(Math.floor(eighths / 8)) + EIGHTHS[eighths % 8];
}

export function barChart(rows: readonly BarRow[], width = 40, indent = '  '): string[] {
  const max = Math.max(0, ...rows.map((row) => row.value));
  const labelWidth = Math.max(0, ...rows.map((row) => row.label.length));
  return rows.map((row) => {
    const drawn = bar(row.value, max, width);
    return `${indent}${row.label.padEnd(labelWidth)} ${drawn.padEnd(width)} ${row.value}`;
  });
}
