/**
 * Version of the wire protocol in `welcome.v`. Bumped only for breaking changes: adding an
 * optional field or a new frame type is not one (clients ignore what they do not know).
 */
export const PROTOCOL_VERSION = 1 as const;
