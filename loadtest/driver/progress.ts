/**
 * The progress bar on stderr: redrawn in place on a terminal, a plain line every few seconds
 * otherwise (CI logs, test runners), so stdout stays free for the result line.
 */
export class Progress {
  private readonly tty = process.stderr.isTTY === true;
  private lastLineAt = 0;
  private drawn = false;
  private readonly startedAt = Date.now();

  constructor(
    private readonly label: string,
    private readonly quiet = false,
  ) {}

  /** `done` of `total` as a bar, with a phase name and extra figures. */
  update(phase: string, done: number, total: number, extra = ""): void {
    if (this.quiet) return;
    const width = 24;
    const frac = total > 0 ? Math.max(0, Math.min(1, done / total)) : 0;
    const full = Math.round(frac * width);
    const bar = `${"█".repeat(full)}${"░".repeat(width - full)}`;
    const secs = ((Date.now() - this.startedAt) / 1000).toFixed(1);
    const line = `[loadtest ${this.label}] ${bar} ${phase} ${done}/${total}${extra ? ` · ${extra}` : ""} · ${secs}s`;
    if (this.tty) {
      process.stderr.write(`\r\x1b[2K${line}`);
      this.drawn = true;
    } else if (Date.now() - this.lastLineAt >= 2_000) {
      this.lastLineAt = Date.now();
      process.stderr.write(`${line}\n`);
    }
  }

  /** A line of its own (phase changes, notes). */
  log(line: string): void {
    if (this.quiet) return;
    if (this.drawn) process.stderr.write("\r\x1b[2K");
    this.drawn = false;
    process.stderr.write(`[loadtest ${this.label}] ${line}\n`);
  }

  done(): void {
    if (this.drawn) process.stderr.write("\n");
    this.drawn = false;
  }
}
