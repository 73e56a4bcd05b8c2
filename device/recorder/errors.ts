/**
 * The recorder layer's one error type (STYLE.md §6). `code` is stable: the executor maps it to an
 * occurrence reason (`disk_full` …) and the manifest's `reason`.
 */

export const RECORDER_ERROR_CODES = [
  /** The request itself is wrong (bad URL, service id out of range, end before start). */
  'BAD_REQUEST',
  /** Not enough space within the quota / above the free-space floor, even after retention. */
  'DISK_FULL',
  /** The recordings filesystem is mounted read-only (EROFS, DOMAIN.md §6). */
  'READ_ONLY',
  /** ffmpeg/ffprobe could not be started. */
  'SPAWN_FAILED',
  /** `start` called twice, or `extend` after the recording finished. */
  'STATE',
] as const;
export type RecorderErrorCode = (typeof RECORDER_ERROR_CODES)[number];

export class RecorderError extends Error {
  override readonly name = 'RecorderError';
  constructor(
    readonly code: RecorderErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}
