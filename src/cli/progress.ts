/**
 * A one-line progress bar on stderr, drawn only when stderr is a terminal (so logs and pipes stay clean).
 */
export class ProgressBar {
  private done = 0;
  private bytes = 0;
  private readonly started = performance.now();
  private lastDraw = 0;

  constructor(
    private readonly label: string,
    private total: number,
    private readonly out: { isTTY?: boolean; write(s: string): unknown } = process.stderr,
  ) {}

  get enabled(): boolean {
    return this.out.isTTY === true;
  }

  setTotal(total: number): void {
    this.total = total;
  }

  tick(items: number, bytes = 0): void {
    this.done += items;
    this.bytes += bytes;
    const now = performance.now();
    if (now - this.lastDraw > 100 || this.done >= this.total) this.draw(now);
  }

  finish(): void {
    if (this.enabled) {
      this.draw(performance.now());
      this.out.write("\n");
    }
  }

  /** The text of the bar, without terminal control characters. */
  line(now = performance.now()): string {
    const width = 28;
    const frac = this.total > 0 ? Math.min(1, this.done / this.total) : 1;
    const filled = Math.round(frac * width);
    const secs = Math.max(0.001, (now - this.started) / 1000);
    const rate = this.done / secs;
    const eta = rate > 0 && this.done < this.total ? ` ETA ${formatSeconds((this.total - this.done) / rate)}` : "";
    const mb = this.bytes ? ` ${(this.bytes / 1048576 / secs).toFixed(1)} MB/s` : "";
    return `${this.label} [${"#".repeat(filled)}${"-".repeat(width - filled)}] ${Math.floor(frac * 100)}% ${this.done}/${this.total} ${rate.toFixed(0)}/s${mb}${eta}`;
  }

  private draw(now: number): void {
    this.lastDraw = now;
    if (this.enabled) this.out.write(`\r\x1b[2K${this.line(now)}`);
  }
}

export function formatSeconds(s: number): string {
  if (s < 60) return `${Math.ceil(s)}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m${String(Math.ceil(s % 60)).padStart(2, "0")}s`;
  return `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, "0")}m`;
}
