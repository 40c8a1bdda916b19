/** One JSON call to a gateway; status 0 when it did not answer (cut off, killed, timed out). */
export interface Answer {
  readonly status: number;
  readonly body: Record<string, unknown> | undefined;
  /** `error.code` of a refusal, else `HTTP_<status>`. */
  readonly code: string;
}

export async function call(
  method: "GET" | "POST",
  url: string,
  token: string | undefined,
  body: unknown,
  timeoutMs: number,
): Promise<Answer> {
  const headers: Record<string, string> = {};
  if (token) headers.authorization = `Bearer ${token}`;
  if (body !== undefined) headers["content-type"] = "application/json";
  try {
    const res = await fetch(url, {
      method,
      headers,
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      signal: AbortSignal.timeout(timeoutMs),
    });
    const text = await res.text();
    let parsed: Record<string, unknown> | undefined;
    try {
      parsed = text ? (JSON.parse(text) as Record<string, unknown>) : undefined;
    } catch {
      parsed = undefined;
    }
    const code = (parsed?.error as { code?: string } | undefined)?.code ?? `HTTP_${res.status}`;
    return { status: res.status, body: parsed, code };
  } catch {
    return { status: 0, body: undefined, code: "NO_ANSWER" };
  }
}
