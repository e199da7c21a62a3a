import { initiate, predict, update, type Gaussian } from "./kalman-filter.ts";
import { linearAssignment } from "./linear-assignment.ts";

/**
 * ByteTrack as supervision's `sv.ByteTrack` implements it (the reference's byte_tracker blocks run it):
 * Kalman-predicted tracks are matched first with the confident detections, then the tracks left over with
 * the weak ones, unconfirmed tracks with what is left, and new tracks start from unmatched confident
 * detections. A track gets its id (counted from 1, per tracker) once seen `minimumConsecutiveFrames` frames
 * in a row, and is kept while lost for `lostTrackBuffer × fps / 30` frames.
 */

export interface TrackerOptions {
  trackActivationThreshold: number;
  lostTrackBuffer: number;
  minimumMatchingThreshold: number;
  minimumConsecutiveFrames: number;
  frameRate: number;
}

/** Corners `[x1, y1, x2, y2]` in pixels. */
export type Box = [number, number, number, number];

export interface ScoredBox {
  box: Box;
  score: number;
}

export const NO_ID = -1;
/** Detections at or below this score are ignored (the reference's fixed low bound). */
const LOWEST_SCORE = 0.1;
/** Second association (weak detections) and the final detection↔track pairing use IoU ≥ 0.5. */
const SECOND_MATCH_COST = 0.5;
const UNCONFIRMED_MATCH_COST = 0.7;
/** Tracked and lost tracks closer than this IoU distance are duplicates; the younger one goes. */
const DUPLICATE_COST = 0.15;

type TrackState = "new" | "tracked" | "lost" | "removed";

class Track {
  state: TrackState = "new";
  isActivated = false;
  frameId = 0;
  startFrame = 0;
  trackletLen = 0;
  externalId = NO_ID;
  kf: Gaussian | undefined;

  constructor(
    private readonly box: Box,
    public score: number,
  ) {}

  /** The Kalman estimate once the track started; the detected box before. */
  get tlbr(): Box {
    if (!this.kf) return this.box;
    const [cx, cy, a, h] = this.kf.mean as [number, number, number, number];
    const w = a * h;
    return [cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2];
  }

  predict(): void {
    const mean = [...this.kf!.mean];
    // A track not seen this frame keeps its height still.
    if (this.state !== "tracked") mean[7] = 0;
    this.kf = predict({ mean, covariance: this.kf!.covariance });
  }
}

export class ByteTracker {
  private frameId = 0;
  private tracked: Track[] = [];
  private lost: Track[] = [];
  /** Tracks removed on the previous frame (taken out of `lost` one frame late, as the reference does). */
  private removed: Track[] = [];
  private nextExternalId = 1;
  private readonly maxTimeLost: number;

  constructor(private readonly opts: TrackerOptions) {
    this.maxTimeLost = Math.trunc((opts.frameRate / 30) * opts.lostTrackBuffer);
  }

  /** Runs one frame; returns each detection's tracker id, or NO_ID where no confirmed track claims it. */
  update(detections: ScoredBox[]): number[] {
    const tracks = this.step(detections);
    const ids = detections.map(() => NO_ID);
    if (!tracks.length) return ids;
    const cost = detections.map((d) => tracks.map((t) => 1 - iou(d.box, t.tlbr)));
    for (const [d, t] of linearAssignment(cost, tracks.length, SECOND_MATCH_COST).matches) ids[d] = tracks[t]!.externalId;
    return ids;
  }

  /** The reference's `update_with_tensors`: the tracks to output after this frame. */
  private step(detections: ScoredBox[]): Track[] {
    const frame = ++this.frameId;
    const threshold = this.opts.trackActivationThreshold;
    const activated: Track[] = [];
    const refound: Track[] = [];
    const lostNow: Track[] = [];
    const removedNow: Track[] = [];
    const strong = detections.filter((d) => d.score > threshold).map((d) => new Track(d.box, d.score));
    const weak = detections.filter((d) => d.score > LOWEST_SCORE && d.score < threshold).map((d) => new Track(d.box, d.score));

    const unconfirmed = this.tracked.filter((t) => !t.isActivated);
    const pool = joint(this.tracked.filter((t) => t.isActivated), this.lost);
    for (const t of pool) t.predict();

    // First association: confirmed and lost tracks with the confident detections (IoU weighted by score).
    const first = linearAssignment(fuseScore(iouDistance(pool, strong), strong), strong.length, this.opts.minimumMatchingThreshold);
    for (const [ti, di] of first.matches) {
      const t = pool[ti]!;
      if (t.state === "tracked") activated.push(this.updateTrack(t, strong[di]!));
      else refound.push(this.reactivate(t, strong[di]!));
    }

    // Second association: tracks still unmatched (not lost ones) with the weak detections.
    const remaining = first.unmatchedRows.map((i) => pool[i]!).filter((t) => t.state === "tracked");
    const second = linearAssignment(iouDistance(remaining, weak), weak.length, SECOND_MATCH_COST);
    for (const [ti, di] of second.matches) activated.push(this.updateTrack(remaining[ti]!, weak[di]!));
    for (const ti of second.unmatchedRows) {
      const t = remaining[ti]!;
      if (t.state !== "lost") {
        t.state = "lost";
        lostNow.push(t);
      }
    }

    // Unconfirmed tracks (usually seen on one frame) with the confident detections left.
    const left = first.unmatchedCols.map((i) => strong[i]!);
    const third = linearAssignment(fuseScore(iouDistance(unconfirmed, left), left), left.length, UNCONFIRMED_MATCH_COST);
    for (const [ti, di] of third.matches) activated.push(this.updateTrack(unconfirmed[ti]!, left[di]!));
    for (const ti of third.unmatchedRows) {
      unconfirmed[ti]!.state = "removed";
      removedNow.push(unconfirmed[ti]!);
    }

    // New tracks from confident detections nobody claimed.
    for (const di of third.unmatchedCols) {
      const t = left[di]!;
      if (t.score < threshold + 0.1) continue;
      activated.push(this.activate(t, frame));
    }

    for (const t of this.lost) {
      if (frame - t.frameId > this.maxTimeLost) {
        t.state = "removed";
        removedNow.push(t);
      }
    }

    this.tracked = joint(joint(this.tracked.filter((t) => t.state === "tracked"), activated), refound);
    this.lost = sub(sub(this.lost, this.tracked).concat(lostNow), this.removed);
    this.removed = removedNow;
    [this.tracked, this.lost] = removeDuplicates(this.tracked, this.lost);
    return this.tracked.filter((t) => t.isActivated);
  }

  private activate(t: Track, frame: number): Track {
    t.kf = initiate(xyah(t.tlbr));
    t.trackletLen = 0;
    t.state = "tracked";
    // Tracks of the tracker's first frame are confirmed at once.
    if (frame === 1) t.isActivated = true;
    if (this.opts.minimumConsecutiveFrames === 1) t.externalId = this.nextExternalId++;
    t.frameId = frame;
    t.startFrame = frame;
    return t;
  }

  private updateTrack(t: Track, det: Track): Track {
    t.frameId = this.frameId;
    t.trackletLen++;
    t.kf = update(t.kf!, xyah(det.tlbr));
    t.state = "tracked";
    if (t.trackletLen === this.opts.minimumConsecutiveFrames) {
      t.isActivated = true;
      if (t.externalId === NO_ID) t.externalId = this.nextExternalId++;
    }
    t.score = det.score;
    return t;
  }

  private reactivate(t: Track, det: Track): Track {
    t.kf = update(t.kf!, xyah(det.tlbr));
    t.trackletLen = 0;
    t.state = "tracked";
    t.frameId = this.frameId;
    t.score = det.score;
    return t;
  }
}

function xyah([x1, y1, x2, y2]: Box): number[] {
  const w = x2 - x1;
  const h = y2 - y1;
  return [x1 + w / 2, y1 + h / 2, w / h, h];
}

export function iou(a: Box, b: Box): number {
  const iw = Math.max(0, Math.min(a[2], b[2]) - Math.max(a[0], b[0]));
  const ih = Math.max(0, Math.min(a[3], b[3]) - Math.max(a[1], b[1]));
  const inter = iw * ih;
  const union = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter;
  return union > 0 ? inter / union : 0;
}

const iouDistance = (a: Track[], b: Track[]) => a.map((ta) => b.map((tb) => 1 - iou(ta.tlbr, tb.tlbr)));

/** Similarity weighted by each detection's score (the reference's `fuse_score`). */
const fuseScore = (cost: number[][], dets: Track[]) => cost.map((row) => row.map((c, j) => 1 - (1 - c) * dets[j]!.score));

/** `a` then the tracks of `b` not already in it. */
const joint = (a: Track[], b: Track[]) => [...a, ...b.filter((t) => !a.includes(t))];

const sub = (a: Track[], b: Track[]) => a.filter((t) => !b.includes(t));

function removeDuplicates(a: Track[], b: Track[]): [Track[], Track[]] {
  const dropA = new Set<Track>();
  const dropB = new Set<Track>();
  const cost = iouDistance(a, b);
  cost.forEach((row, i) =>
    row.forEach((c, j) => {
      if (c >= DUPLICATE_COST) return;
      const ta = a[i]!;
      const tb = b[j]!;
      if (ta.frameId - ta.startFrame > tb.frameId - tb.startFrame) dropB.add(tb);
      else dropA.add(ta);
    }),
  );
  return [a.filter((t) => !dropA.has(t)), b.filter((t) => !dropB.has(t))];
}
