import { z } from "zod";

/** A TCP port number (0 is not one; fields that allow it say so). */
export const port = z.coerce.number().int().min(1).max(65535);
