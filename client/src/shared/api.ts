import type { ClientConfigResponse } from "../../../protocol/index.ts";

/**
 * The gateway's JSON API (same origin). Errors come back as `{error:{code,message}}`; they are
 * thrown as ApiError with that code so the UI can translate it.
 */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

export async function api<T>(
  path: string,
  init: { method?: "GET" | "POST"; token?: string; body?: unknown } = {},
): Promise<T> {
  const headers: Record<string, string> = {};
  if (init.token) headers.authorization = `Bearer ${init.token}`;
  if (init.body !== undefined) headers["content-type"] = "application/json";
  const res = await fetch(path, {
    method: init.method ?? (init.body === undefined ? "GET" : "POST"),
    headers,
    body: init.body === undefined ? undefined : JSON.stringify(init.body),
  });
  const text = await res.text();
  let json: unknown;
  try {
    json = text ? JSON.parse(text) : undefined;
  } catch {
    throw new ApiError(res.status, "BAD_RESPONSE", `HTTP ${res.status}`);
  }
  if (!res.ok) {
    const err = (json as { error?: { code?: string; message?: string } } | undefined)?.error;
    throw new ApiError(res.status, err?.code ?? `HTTP_${res.status}`, err?.message ?? `HTTP ${res.status}`);
  }
  return json as T;
}

/** `GET /api/v1/config`: protocol's response body. */
export type ClientConfig = ClientConfigResponse;

let configPromise: Promise<ClientConfig> | undefined;

export function clientConfig(): Promise<ClientConfig> {
  configPromise ??= api<ClientConfig>("/api/v1/config").catch((err: unknown) => {
    configPromise = undefined;
    throw err;
  });
  return configPromise;
}
