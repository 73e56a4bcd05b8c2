/**
 * The programme guide (issue 6; DOMAIN.md §5): programmes by service and window for the guide grid, and
 * XMLTV upload. The upload is streamed to the import worker (headend/guide/import-worker.ts), which parses
 * in its own thread with its own SQLite connection, so the broker keeps answering; broken XML changes
 * nothing and answers 422 with the line of the error.
 */
import { z } from 'zod';
import { ServiceKey } from '../../../protocol/messages/common.js';
import { createGuideReader, listImportRuns } from '../../guide/guide-store.js';
import type { GuideProgramme } from '../../guide/guide-validate.js';
import type { ApiRegistry } from '../api.js';
import { actorOf } from '../auth.js';
import { type ApiContext, need } from '../context.js';
import { HttpError } from '../errors.js';
import { Limit, QueryInstant } from './schemas.js';

const HOUR = 3_600_000;
const iso = (ms: number) => new Date(ms).toISOString().replace(/\.000Z$/, 'Z');

const GuideQuery = z
  .strictObject({
    /** One service; all services when omitted (then the window is at most 2 days). */
    service: ServiceKey.optional(),
    from: QueryInstant.optional(),
    to: QueryInstant.optional(),
    /** Case-insensitive part of the title. */
    q: z.string().trim().min(1).max(100).optional(),
  })
  .refine((q) => q.from === undefined || q.to === undefined || Date.parse(q.to) > Date.parse(q.from), {
    path: ['to'],
    message: 'to must be after from',
  });

const ProgrammeView = z.object({
  service: z.string(),
  programmeId: z.string(),
  start: z.string(),
  stop: z.string(),
  title: z.string(),
  subTitle: z.string().nullable(),
  episode: z.string().nullable(),
  description: z.string().nullable(),
  category: z.string().nullable(),
});

const view = (p: GuideProgramme) => ({
  service: p.service,
  programmeId: p.programmeId,
  start: iso(p.startMs),
  stop: iso(p.stopMs),
  title: p.title,
  subTitle: p.subTitle,
  episode: p.episode,
  description: p.description,
  category: p.category,
});

/** Media types accepted for an upload (grabbers often publish `.xml.gz`). */
const UPLOAD_TYPES = [
  'application/xml',
  'text/xml',
  'application/gzip',
  'application/x-gzip',
  'application/octet-stream',
];

export function guideRoutes(api: ApiRegistry, ctx: ApiContext): void {
  const reader = createGuideReader(ctx.store.db);

  api.add({
    method: 'get',
    path: '/guide',
    tag: 'guide',
    summary: 'Programmes overlapping a window (default: the next 24 h), by start',
    description: 'One service: windows up to 15 days; all services: up to 2 days.',
    access: 'user',
    query: GuideQuery,
    response: z.object({ from: z.string(), to: z.string(), programmes: z.array(ProgrammeView) }),
    handler({ query }) {
      const from = query.from ? Date.parse(query.from) : ctx.now().getTime() - HOUR;
      const maxSpan = query.service ? 15 * 24 * HOUR : 48 * HOUR;
      const to = Math.min(query.to ? Date.parse(query.to) : from + 24 * HOUR, from + maxSpan);
      let list = reader.overlapping(from, to, query.service);
      if (query.q) {
        const needle = query.q.toLowerCase();
        list = list.filter(
          (p) => p.title.toLowerCase().includes(needle) || (p.subTitle ?? '').toLowerCase().includes(needle),
        );
      }
      return { from: iso(from), to: iso(to), programmes: list.map(view) };
    },
  });

  api.add({
    method: 'get',
    path: '/guide/programmes/:service/:programmeId',
    tag: 'guide',
    summary: 'One programme',
    access: 'user',
    params: z.strictObject({ service: ServiceKey, programmeId: z.string().min(1).max(512) }),
    response: ProgrammeView,
    handler({ params }) {
      const p = reader.get(params.service, params.programmeId);
      if (!p)
        throw new HttpError(404, 'NOT_FOUND', `no programme ${params.programmeId} of ${params.service}`);
      return view(p);
    },
  });

  api.add({
    method: 'post',
    path: '/guide/import',
    tag: 'guide',
    summary: 'Upload an XMLTV file (plain or gzip) and import it; answers the import report',
    description:
      'The body is the file itself. Programmes of channels mapped to line-up services replace those ' +
      "services' windows; moved programmes are followed by the recordings linked to them. A file that does " +
      'not parse changes nothing (422 with the line and column).',
    access: 'guide.import',
    query: z.strictObject({ name: z.string().max(120).optional() }),
    rawBody: { contentTypes: UPLOAD_TYPES, limitBytes: 512 * 1024 * 1024, stream: true },
    audited: true,
    async handler({ req, me, query }) {
      const guide = need(ctx.guide, 'guide import');
      if (req.is(UPLOAD_TYPES) === false || req.is(UPLOAD_TYPES) === null) {
        throw new HttpError(
          415,
          'UNSUPPORTED_MEDIA_TYPE',
          `send the file as one of: ${UPLOAD_TYPES.join(', ')}`,
        );
      }
      const report = await guide.importer.import({
        kind: 'stream',
        name: query.name ?? 'upload.xml',
        stream: req,
      });
      ctx.store.audit.record({
        actor: actorOf(me),
        action: 'guide.import',
        target: 'guide',
        details: { runId: report.runId, source: report.source, totals: report.totals },
      });
      guide.onImported?.(report);
      ctx.sse.publish({
        type: 'guide',
        stations: 'all',
        data: { runId: report.runId, totals: report.totals },
      });
      return report;
    },
  });

  api.add({
    method: 'get',
    path: '/guide/imports',
    tag: 'guide',
    summary: 'Recent XMLTV imports with their outcome and report',
    access: 'user',
    query: z.strictObject({ limit: Limit(100, 20) }),
    handler: ({ query }) =>
      listImportRuns(ctx.store.db, query.limit).map((r) => ({
        id: r.id,
        source: r.source,
        startedAt: iso(r.startedAt),
        finishedAt: r.finishedAt === null ? null : iso(r.finishedAt),
        status: r.status,
        error: r.error,
        report: r.reportJson === null ? null : (JSON.parse(r.reportJson) as unknown),
      })),
  });
}
