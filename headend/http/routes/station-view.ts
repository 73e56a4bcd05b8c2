/**
 * The station views the API and the live stream send: registry facts joined with presence, desired vs
 * applied schedule, the last telemetry and active alarms (issue 6: fleet board). One function, so a board
 * row fetched by `GET /stations` and one pushed by SSE look the same.
 */
import type { z } from 'zod';
import type { Station } from '../../store/stations.js';
import type { ApiContext } from '../context.js';
import type { StationLiveView } from './schemas.js';

export type StationLive = z.infer<typeof StationLiveView>;

export function stationLive(ctx: ApiContext, s: Station): StationLive {
  const fleet = ctx.fleet;
  const p = fleet?.presence.get(s.id);
  const st = fleet?.tracker.status(s.id);
  const tel = fleet?.telemetry.latest(s.id);
  const desiredDoc = st ? null : ctx.store.schedules.latest(s.id);
  const birth = p?.birth ?? null;
  const receivers = tel
    ? tel.telemetry.receivers.map((r) => ({
        id: r.id,
        locked: r.locked,
        service: r.service,
        marginDb: r.marginDb,
        cnDb: r.cnDb,
        lnb: r.lnb,
        link: r.link,
      }))
    : (birth?.receivers ?? []).map((r) => ({
        id: r.id,
        locked: r.locked,
        service: r.service,
        marginDb: r.marginDb,
        lnb: r.lnb,
        link: r.link,
      }));
  const margins = receivers.filter((r) => r.locked && r.marginDb !== null).map((r) => r.marginDb as number);
  return {
    id: s.id,
    name: s.name,
    county: s.county,
    tags: s.tags,
    lat: s.lat,
    lon: s.lon,
    revoked: s.revokedAt !== null,
    connection: p?.connection ?? (fleet ? 'unknown' : null),
    since: p?.since ?? null,
    offlineAlarm: p?.offlineAlarm ?? false,
    agentVersion: birth?.agentVersion ?? null,
    maintenance: birth?.maintenance
      ? { holder: birth.maintenance.holder, until: birth.maintenance.until }
      : null,
    schedule: st
      ? {
          desired: st.desired?.version ?? null,
          applied: st.applied?.version ?? null,
          inSync: st.inSync,
          lagSince: st.lagSince,
          lagMs: st.lagMs,
          rejected: st.rejected
            ? { code: st.rejected.code, reason: st.rejected.reason, at: st.rejected.at }
            : null,
        }
      : {
          desired: desiredDoc?.version ?? null,
          applied: null,
          inSync: desiredDoc === undefined,
          lagSince: null,
          lagMs: null,
          rejected: null,
        },
    receivers,
    marginDb: margins.length > 0 ? Math.min(...margins) : null,
    activity: (tel?.telemetry.recorders ?? []).map((r) => ({
      entryId: r.entryId,
      nominalStart: r.nominalStart,
      receiverId: r.receiverId,
    })),
    telemetryAt: tel?.at ?? null,
    disk: tel ? tel.telemetry.disk : null,
    alarms: (fleet?.alarms.list(s.id) ?? []).map((a) => ({
      kind: a.kind,
      severity: a.severity,
      subject: a.subject,
      message: a.message,
      at: a.at,
    })),
    timeZone: ctx.timeZone,
  };
}
