import { AppError } from "../../core/errors.ts";
import { lastError } from "./probe.ts";

/**
 * Writes raw RGB frames into an H.264 MP4 (yuv420p, fast start, odd sizes padded to even) at a given
 * frame rate, through an ffmpeg process fed on its standard input; each `write` waits until ffmpeg took
 * the frame, so memory stays at one frame.
 */
export class VideoEncoder {
  private readonly proc;
  private readonly log: Promise<string>;
  private frames = 0;

  constructor(
    ffmpeg: string,
    readonly path: string,
    readonly width: number,
    readonly height: number,
    fps: number,
  ) {
    this.proc = Bun.spawn(
      [
        ffmpeg,
        "-hide_banner",
        "-nostdin",
        "-loglevel",
        "error",
        "-f",
        "rawvideo",
        "-pix_fmt",
        "rgb24",
        "-s",
        `${width}x${height}`,
        "-r",
        String(Math.round(fps * 1000) / 1000),
        "-i",
        "-",
        "-vf",
        "pad=ceil(iw/2)*2:ceil(ih/2)*2",
        "-c:v",
        "libx264",
        "-preset",
        "veryfast",
        "-pix_fmt",
        "yuv420p",
        "-movflags",
        "+faststart",
        "-y",
        path,
      ],
      { stdin: "pipe", stdout: "ignore", stderr: "pipe" },
    );
    this.log = new Response(this.proc.stderr).text();
  }

  get framesWritten(): number {
    return this.frames;
  }

  async write(rgb: Uint8Array, width: number, height: number): Promise<void> {
    if (width !== this.width || height !== this.height)
      throw new AppError("VIDEO_ENCODE_FAILED", `A frame of ${width}x${height} cannot go into the ${this.width}x${this.height} video ${this.path}`, 500);
    if (this.proc.exitCode !== null) throw await this.failure();
    this.proc.stdin.write(rgb);
    await this.proc.stdin.flush();
    this.frames++;
  }

  /** Ends the video and waits for ffmpeg to finish the file. */
  async close(): Promise<void> {
    await this.proc.stdin.end();
    const code = await this.proc.exited;
    if (code !== 0) throw await this.failure();
  }

  /** Stops ffmpeg without finishing the file (the task was stopped or failed). */
  abort(): void {
    if (this.proc.exitCode === null) this.proc.kill();
  }

  private async failure(): Promise<AppError> {
    await this.proc.exited;
    return new AppError("VIDEO_ENCODE_FAILED", `ffmpeg could not write ${this.path}: ${lastError(await this.log)}`, 500, { exitCode: this.proc.exitCode });
  }
}
