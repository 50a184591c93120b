/** Splits a child's output into lines and keeps the last few, for the message when it dies. */
export class LogTail {
  private readonly lines: string[] = [];
  private partial = "";

  constructor(
    private readonly keep = 20,
    private readonly onLine: (line: string) => void = () => {},
  ) {}

  write(chunk: string): void {
    const parts = (this.partial + chunk).split("\n");
    this.partial = parts.pop() ?? "";
    for (const part of parts) this.add(part);
    // A runaway line without a newline is still shown, in pieces.
    if (this.partial.length > 4096) {
      this.add(this.partial);
      this.partial = "";
    }
  }

  last(): string[] {
    return this.partial ? [...this.lines, this.partial] : [...this.lines];
  }

  private add(line: string): void {
    const trimmed = line.trimEnd();
    if (!trimmed) return;
    this.lines.push(trimmed);
    if (this.lines.length > this.keep) this.lines.shift();
    this.onLine(trimmed);
  }
}
