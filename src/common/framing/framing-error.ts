/** The bytes a function wrote do not follow its format: the container can never be trusted again. */
export class FramingError extends Error {
  override readonly name = 'FramingError';
}
