/** A mistake in what the user asked for: printed as one clear line, exit 2. */
export class UserError extends Error {
  constructor(message: string) {
    super(message);
    this.name = new.target.name;
  }
}
