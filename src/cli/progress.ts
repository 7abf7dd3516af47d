// A progress bar with rate and ETA, on stderr, only when stderr is a terminal: output that is piped
// or redirected never carries it. Results on stdout may share the terminal: the bar line is cleared
// before they are written and comes back at its next redraw.
import cliProgress from 'cli-progress';
import type { Out } from './io.js';

export class ProgressBar {
  private bar: cliProgress.SingleBar | undefined;
  private started = 0;

  constructor(private readonly stream: Out, private readonly enabled: boolean, private readonly label: string) {}

  static for(stream: Out, wanted: boolean, label: string): ProgressBar {
    return new ProgressBar(stream, wanted && stream.isTTY === true, label);
  }

  /** `done` of `total` events. */
  readonly update = (done: number, total: number): void => {
    if (!this.enabled || total <= 0) return;
    const now = performance.now();
    if (this.bar === undefined) {
      this.started = now;
      this.bar = new cliProgress.SingleBar(
        {
          stream: this.stream,
          format: `${this.label} [{bar}] {percentage}% | {value}/{total} events | {rate} events/s | ETA {eta_formatted}`,
          barsize: 30,
          fps: 5,
          etaBuffer: 20,
          clearOnComplete: true,
          hideCursor: null,
        },
        cliProgress.Presets.shades_classic,
      );
      this.bar.start(total, done, { rate: '-' });
      return;
    }
    const seconds = (now - this.started) / 1000;
    this.bar.setTotal(total);
    this.bar.update(done, { rate: seconds > 0 ? Math.round(done / seconds).toLocaleString('en-US') : '-' });
  };

  /** Clears the bar's line so results written to the same terminal do not land on it. */
  clearLine(): void {
    if (this.bar !== undefined) this.stream.write('\r\x1b[2K');
  }

  stop(): void {
    this.bar?.stop();
    this.bar = undefined;
  }
}
