/** Why an image could not be read; lets callers (CLI, UI) react without parsing messages. */
export type ImageDecodeErrorCode =
  'not-found' | 'is-directory' | 'empty' | 'not-an-image' | 'unsupported-format' | 'corrupt' | 'too-large' | 'bad-region';

/** A file or buffer that could not be decoded; the message always names the file. */
export class ImageDecodeError extends Error {
  override readonly name = 'ImageDecodeError';
  constructor(
    readonly code: ImageDecodeErrorCode,
    readonly file: string,
    detail: string,
    options?: { cause?: unknown },
  ) {
    super(`${file}: ${detail}`, options);
  }
}

/** An image that could not be written (bad options, refused path, encoder failure). */
export class ImageEncodeError extends Error {
  override readonly name = 'ImageEncodeError';
  constructor(
    readonly file: string,
    detail: string,
    options?: { cause?: unknown },
  ) {
    super(`${file}: ${detail}`, options);
  }
}
