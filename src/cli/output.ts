// Writing results: JSON Lines when piped or asked, aligned text on a terminal. Writes respect the
// stream's backpressure (so a slow reader bounds memory instead of a growing buffer), and a reader
// that goes away (EPIPE, e.g. `jzse replay | head`) ends the output quietly.
import type { Out } from './io.js';

export type Format = 'table' | 'json';

export const chooseFormat = (requested: string | undefined, json: boolean | undefined, stdout: Out): Format => {
  if (json === true || requested === 'json') return 'json';
  if (requested === 'table') return 'table';
  return stdout.isTTY === true ? 'table' : 'json';
};

export class Writer {
  private closed = false;
  private failure: Error | undefined;

  constructor(private readonly stream: Out) {
    stream.on('error', (error: NodeJS.ErrnoException) => {
      this.closed = true;
      if (error.code !== 'EPIPE') this.failure = error;
    });
  }

  /** True once the reader has gone away: producers should stop. */
  get done(): boolean {
    return this.closed;
  }

  async write(text: string): Promise<void> {
    if (this.failure !== undefined) throw this.failure;
    if (this.closed || text === '') return;
    if (this.stream.write(text)) return;
    await new Promise<void>((resolve) => {
      const finish = () => {
        this.stream.off('drain', finish);
        this.stream.off('error', finish);
        this.stream.off('close', finish);
        resolve();
      };
      this.stream.on('drain', finish);
      this.stream.on('error', finish);
      this.stream.on('close', finish);
    });
  }

  line(text = ''): Promise<void> {
    return this.write(`${text}\n`);
  }

  json(value: unknown): Promise<void> {
    return this.write(`${JSON.stringify(value)}\n`);
  }
}

/** Cuts or pads to `width` characters (an ellipsis marks a cut). */
export const fit = (text: string, width: number, align: 'left' | 'right' = 'left'): string => {
  const flat = text.replace(/[\r\n\t]+/g, ' ');
  if (flat.length > width) return width <= 1 ? flat.slice(0, width) : `${flat.slice(0, width - 1)}…`;
  return align === 'left' ? flat.padEnd(width) : flat.padStart(width);
};

export type Column = { readonly title: string; readonly width: number; readonly align?: 'left' | 'right' };

/** A streaming table: fixed column widths (no need to see every row first); the last column takes the rest. */
export class Table {
  constructor(private readonly columns: readonly Column[], private readonly totalWidth: number) {}

  header(): string {
    return this.row(this.columns.map((c) => c.title));
  }

  row(cells: readonly string[]): string {
    const parts: string[] = [];
    let used = 0;
    this.columns.forEach((c, i) => {
      const cell = cells[i] ?? '';
      if (i === this.columns.length - 1) {
        parts.push(fit(cell, Math.max(8, this.totalWidth - used)).trimEnd());
      } else {
        parts.push(fit(cell, c.width, c.align));
        used += c.width + 2;
      }
    });
    return parts.join('  ').trimEnd();
  }
}

/** A value for a one-line display: JSON, cut to `max` characters. */
export const brief = (value: unknown, max = 80): string => {
  const text = value === undefined ? '(absent)' : typeof value === 'string' ? value : JSON.stringify(value);
  return text.length > max ? `${text.slice(0, max - 1)}…` : text;
};
