import type { FrameMetadata } from "../uql/types.ts";

/**
 * The frame facts of an image: those it carries as a video frame, else those of a video of one frame named
 * by the image (frame 0, 30 fps, not from a file), as the reference treats a still image.
 */
export function frameMetadataOf(image: { id: string; videoMetadata?: FrameMetadata }): FrameMetadata {
  return image.videoMetadata ?? { video_identifier: image.id, frame_number: 0, frame_timestamp: new Date(0), fps: 30, comes_from_video_file: false };
}
