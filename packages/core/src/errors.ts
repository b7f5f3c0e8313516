/** A mistake the user can fix: shown as one line, exit status 1, never a stack trace. */
export class UserError extends Error {
  override name = "UserError";
  constructor(
    message: string,
    readonly code: string = "invalid_input",
  ) {
    super(message);
  }
}
