/**
 * What the quick start shows a new user within minutes (issue 7 "The quick-start fleet"): a line-up of 49
 * services and a programme guide (SAMPLE DATA, DOMAIN.md §2), users of every role, township operators with
 * their own recordings — one of them cut by the conference, as its operator sees in advance —, a city-wide
 * conference a few minutes ahead, and a county training session recorded at its stations after it.
 * Everything after the registry is done through the HTTP API as the user who would do it.
 */
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import type { RunningHeadend } from '../../headend/main.js';
import { createUserStore } from '../../headend/users/index.js';
import { seedUsers } from '../../headend/users/seed.js';
import { generatedLineup, writeXmltvFile } from '../gen-xmltv.js';
import { DemoClient } from './demo-client.js';
import type { PrefectureStation } from './prefecture.js';
import { lineupInput, provisionPrefecture } from './setup.js';

/** A user to log in as, printed at start. */
const DemoUser = z.object({
  id: z.string(),
  role: z.string(),
  password: z.string(),
  stations: z.array(z.string()),
});
export type DemoUser = z.infer<typeof DemoUser>;

/** What a fresh demo registered (kept in `<dir>/demo-state.json`, mode 0600, for `--keep`). */
const DemoState = z.object({
  members: z.array(z.object({ id: z.string(), secret: z.string() })),
  users: z.array(DemoUser),
});
export type DemoState = z.infer<typeof DemoState>;

const MIN = 60_000;

/** The operator user of a township station (station ids are unique; township names are not). */
export const operatorId = (s: PrefectureStation) => `op-${s.id}`;
const iso = (ms: number) => new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');

/** Registers the line-up, the stations and the users of a fresh demo. */
export async function seedRegistry(
  headend: RunningHeadend,
  stations: readonly PrefectureStation[],
  operators: readonly PrefectureStation[],
): Promise<DemoState> {
  const store = headend.store;
  store.lineup.replace(lineupInput(generatedLineup(49)));
  headend.controlPlane.lineupChanged();
  const members = provisionPrefecture(store, stations, {
    iterations: headend.config.credentials.iterations,
    headendUsername: headend.config.headendUser.username,
    actor: 'demo',
  });
  headend.controlPlane.stationsChanged('demo');
  const users = createUserStore(store.db);
  // One password for every demo user (they are printed together); a real headend gives each their own.
  const seeded = await seedUsers(users.users, {
    password: randomBytes(9).toString('base64url'),
    operators: operators.map((s) => ({
      id: operatorId(s),
      displayName: `${s.name}操作员`,
      stations: [s.id],
    })),
  });
  return {
    members,
    users: seeded.map((u) => ({ id: u.id, role: u.role, password: u.password, stations: u.stations })),
  };
}

/** What the story scheduled, for the printout. */
export interface DemoStory {
  guideProgrammes: number;
  recordings: { station: string; title: string; start: string; end: string }[];
  conference: { id: string; title: string; start: string; end: string };
  countyConference: { id: string; title: string; county: string; start: string; end: string } | null;
}

/** Today's date in `tz`, `YYYY-MM-DD`. */
function localDate(ms: number, tz: string): string {
  return new Intl.DateTimeFormat('en-CA', {
    timeZone: tz,
    year: 'numeric',
    month: '2-digit',
    day: '2-digit',
  }).format(new Date(ms));
}

/** Imports a guide and schedules the recordings and conferences through the API. */
export async function seedStory(o: {
  url: string;
  dir: string;
  timeZone: string;
  state: DemoState;
  stations: readonly PrefectureStation[];
  /** Operators' stations, in the order of `state.users`' operators. */
  operators: readonly PrefectureStation[];
  /** Start of the city-wide conference. */
  conferenceStartMs: number;
}): Promise<DemoStory> {
  const pw = (id: string) => o.state.users.find((u) => u.id === id)?.password ?? '';
  const control = await DemoClient.login(o.url, 'control', pw('control'));

  // The guide: 49 services × 3 days from today, in Beijing time like the prefecture's feed (DOMAIN.md §5).
  const guideFile = path.join(o.dir, 'guide.xml');
  await writeXmltvFile(guideFile, { services: 49, days: 3, start: localDate(Date.now(), o.timeZone) });
  const report = (await control.upload(
    '/guide/import?name=demo-guide.xml',
    fs.readFileSync(guideFile),
    'application/xml',
  )) as { totals?: { programmes?: number; imported?: number } };
  const guideProgrammes = report.totals?.imported ?? report.totals?.programmes ?? 0;

  // Township operators record for their own station (one of them collides with the conference below).
  const start = o.conferenceStartMs;
  const soon = Math.ceil((Date.now() + 2 * MIN) / MIN) * MIN;
  const plan = [
    { service: 'svc05', title: '乡村振兴（录像）', from: soon, to: soon + 3 * MIN },
    { service: 'svc07', title: '致富经（录像）', from: soon, to: soon + 3 * MIN },
    { service: 'svc09', title: '农业科技讲座（与会议冲突）', from: start + 2 * MIN, to: start + 12 * MIN },
  ];
  const recordings: DemoStory['recordings'] = [];
  for (const [i, s] of o.operators.entries()) {
    const p = plan[i];
    if (!p) break;
    const op = await DemoClient.login(o.url, operatorId(s), pw(operatorId(s)));
    await op.post('/entries', {
      kind: 'recording',
      title: p.title,
      service: p.service,
      when: { type: 'once', start: iso(p.from), end: iso(p.to) },
      target: { type: 'station', stationId: s.id },
    });
    recordings.push({ station: s.id, title: p.title, start: iso(p.from), end: iso(p.to) });
  }

  const conf = (await control.post('/conferences', {
    title: '全市冬春农业生产视频调度会议',
    organiser: '平凉市人民政府办公室',
    service: 'svc01',
    start: iso(start),
    end: iso(start + 20 * MIN),
    target: { type: 'all' },
    record: false,
    notes: '各乡镇站点请提前调试设备，保证收看效果。（演示数据）',
  })) as { conference: { id: string; title: string; start: string; end: string } };

  // A county training after it, recorded at the county's stations (real files, DOMAIN.md §4).
  const county = o.stations.some((s) => s.county === 'chongxin') ? 'chongxin' : o.stations[0]?.county;
  let countyConference: DemoStory['countyConference'] = null;
  if (county) {
    const cStart = start + 22 * MIN;
    const r = (await control.post('/conferences', {
      title: '乡村振兴技能培训（各站录像）',
      organiser: '县农业农村局',
      service: 'svc17',
      start: iso(cStart),
      end: iso(cStart + 10 * MIN),
      target: { type: 'counties', counties: [county] },
      record: true,
      notes: '培训录像保存在各站点，供群众点播。（演示数据）',
    })) as { conference: { id: string; title: string; start: string; end: string } };
    countyConference = { ...r.conference, county };
  }
  return { guideProgrammes, recordings, conference: conf.conference, countyConference };
}

/** Saves the state of a fresh demo, readable by its owner only (it holds station secrets and passwords). */
export function saveState(file: string, state: DemoState): void {
  fs.writeFileSync(file, JSON.stringify(state, null, 2), { mode: 0o600 });
}

export function loadState(file: string): DemoState {
  return DemoState.parse(JSON.parse(fs.readFileSync(file, 'utf8')));
}
