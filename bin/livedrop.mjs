#!/usr/bin/env node
// The `livedrop` command. TypeScript runs through tsx's loader, so no build step is needed.
import { register } from "tsx/esm/api";

register();
await import("../cli/main.ts");
