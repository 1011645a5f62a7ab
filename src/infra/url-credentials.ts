/**
 * An endpoint URL without user and password, for whatever shows or records it (the operator's
 * overview, attempts, audit): an institution row set before URLs were checked may still carry them.
 */
export function withoutCredentials(endpoint: string): string {
  try {
    const url = new URL(endpoint);
    url.username = '';
    url.password = '';
    return url.href;
  } catch {
    return endpoint.replace(/\/\/[^/@]*@/, '//');
  }
}
