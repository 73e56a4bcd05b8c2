/**
 * A small client of the headend's HTTP API for the demo: it logs in as a user (session cookie + CSRF token,
 * exactly as the web UI does) and seeds the story through the same API and permissions a person would use,
 * so the audit log names who did what.
 */

/** An API answer that is not 2xx. */
export class DemoApiError extends Error {
  constructor(
    readonly status: number,
    readonly body: string,
    what: string,
  ) {
    super(`${what}: HTTP ${status} ${body.slice(0, 300)}`);
  }
}

export class DemoClient {
  private cookie = '';
  private csrf = '';

  private constructor(readonly base: string) {}

  /** Logs in as `user`; throws when the headend refuses. */
  static async login(base: string, user: string, password: string): Promise<DemoClient> {
    const c = new DemoClient(base);
    const res = await fetch(`${base}/api/v1/auth/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ user, password }),
    });
    const text = await res.text();
    if (!res.ok) throw new DemoApiError(res.status, text, `login ${user}`);
    c.cookie = /rsat_session=[^;]*/.exec(res.headers.get('set-cookie') ?? '')?.[0] ?? '';
    c.csrf = (JSON.parse(text) as { csrf: string }).csrf;
    return c;
  }

  private async call(
    method: string,
    path: string,
    body?: string | Uint8Array,
    type?: string,
  ): Promise<unknown> {
    const headers: Record<string, string> = { cookie: this.cookie, accept: 'application/json' };
    if (method !== 'GET') headers['x-csrf-token'] = this.csrf;
    if (type) headers['content-type'] = type;
    const res = await fetch(`${this.base}/api/v1${path}`, {
      method,
      headers,
      ...(body === undefined ? {} : { body }),
    });
    const text = await res.text();
    if (!res.ok) throw new DemoApiError(res.status, text, `${method} ${path}`);
    return text ? (JSON.parse(text) as unknown) : null;
  }

  get = (path: string) => this.call('GET', path);
  post = (path: string, body: unknown) => this.call('POST', path, JSON.stringify(body), 'application/json');
  /** Uploads a file body (an XMLTV guide). */
  upload = (path: string, data: Uint8Array, type: string) => this.call('POST', path, data, type);
}
