/**
 * Serves the web UI (headend/web) from memory: the files are few and small, so they are read once at start,
 * gzip-compressed once, and answered with a strong ETag — on a township's slow link a revisit costs one
 * 304 per file and a first visit the compressed bytes only. No CDN, no build step (issue 6: everything
 * works on a LAN without internet). Unknown paths that look like UI routes get `index.html` (client-side
 * routing by hash, so this is only a convenience for typed URLs).
 */
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import type { RequestHandler } from 'express';

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.json': 'application/json; charset=utf-8',
  '.webmanifest': 'application/manifest+json',
};

interface Asset {
  type: string;
  body: Buffer;
  gzip: Buffer | null;
  etag: string;
}

/** Where the UI's files are: beside this module's directory (`headend/web`), also when running from `dist/`. */
export function defaultWebDir(): string | null {
  const here = path.dirname(fileURLToPath(import.meta.url));
  for (const c of [path.join(here, '..', 'web'), path.join(here, '..', '..', '..', 'headend', 'web')]) {
    if (fs.existsSync(path.join(c, 'index.html'))) return c;
  }
  return null;
}

/** Reads every servable file below `dir` (recursively). */
export function loadAssets(dir: string): Map<string, Asset> {
  const out = new Map<string, Asset>();
  const walk = (d: string) => {
    for (const e of fs.readdirSync(d, { withFileTypes: true })) {
      const full = path.join(d, e.name);
      if (e.isDirectory()) walk(full);
      else {
        const type = TYPES[path.extname(e.name)];
        if (!type) continue;
        const body = fs.readFileSync(full);
        const gz = gzipSync(body, { level: 9 });
        const rel = `/${path.relative(dir, full).split(path.sep).join('/')}`;
        out.set(rel, {
          type,
          body,
          gzip: gz.length < body.length ? gz : null,
          etag: `"${createHash('sha256').update(body).digest('base64url').slice(0, 22)}"`,
        });
      }
    }
  };
  walk(dir);
  return out;
}

/** The static handler (GET/HEAD). */
export function serveWeb(dir: string): RequestHandler {
  const assets = loadAssets(dir);
  return (req, res, next) => {
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      next();
      return;
    }
    let p = req.path === '/' ? '/index.html' : req.path;
    let asset = assets.get(p);
    // Only a browser navigating (Accept: text/html…) gets the UI for an unknown path; scripts get a JSON 404.
    if (!asset && !path.extname(p) && (req.get('accept') ?? '').includes('text/html')) {
      p = '/index.html';
      asset = assets.get(p);
    }
    if (!asset) {
      next();
      return;
    }
    res.set('content-type', asset.type);
    res.set('etag', asset.etag);
    // Revalidate every time (cheap 304s); the UI has no build step to fingerprint file names.
    res.set('cache-control', 'no-cache');
    res.vary('accept-encoding');
    if (req.get('if-none-match') === asset.etag) {
      res.status(304).end();
      return;
    }
    const gzip = asset.gzip !== null && /\bgzip\b/.test(req.get('accept-encoding') ?? '');
    const body = gzip && asset.gzip ? asset.gzip : asset.body;
    if (gzip) res.set('content-encoding', 'gzip');
    res.set('content-length', String(body.length));
    if (req.method === 'HEAD') res.end();
    else res.end(body);
  };
}

/** Security headers of every answer: the UI loads only its own files and cannot be framed. */
export function securityHeaders(): RequestHandler {
  const csp = [
    "default-src 'self'",
    "script-src 'self'",
    "style-src 'self'",
    "img-src 'self' data:",
    "connect-src 'self'",
    "font-src 'self'",
    "object-src 'none'",
    "base-uri 'none'",
    "frame-ancestors 'none'",
    "form-action 'self'",
  ].join('; ');
  return (_req, res, next) => {
    res.set({
      'content-security-policy': csp,
      'x-content-type-options': 'nosniff',
      'referrer-policy': 'no-referrer',
      'x-frame-options': 'DENY',
      'cross-origin-opener-policy': 'same-origin',
    });
    next();
  };
}
