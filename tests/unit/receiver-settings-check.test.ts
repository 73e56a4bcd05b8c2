/**
 * "Receiver forgets settings after power loss: read-back ≠ desired" (DOMAIN.md §6): when a read-back counts
 * as forgotten settings, and the evidence (desired vs read-back) a technician reads in the alarm.
 */
import t from 'tap';
import type { DesiredTuning, ReceiverStatus, TunedParameters } from '../../device/receiver/driver.js';
import { detectSettingsLoss } from '../../device/receiver/settings-check.js';

const cctv1: DesiredTuning = {
  transponder: {
    frequencyMHz: 3840,
    polarisation: 'H',
    symbolRateKsps: 27500,
    system: 'DVB-S',
    modulation: 'QPSK',
    fec: '3/4',
    lnbLoMHz: 5150,
    rolloff: '0.35',
    lnbPower: true,
    input: 1,
  },
  serviceId: 101,
};
const verified = { sharingKey: 'service:cctv1', service: 'cctv1', tuning: cctv1 };

function status(o: Omit<Partial<ReceiverStatus>, 'tuned'> & { tuned?: Partial<TunedParameters> | null }) {
  const { tuned, ...rest } = o;
  const s: ReceiverStatus = {
    locked: true,
    levelRaw: 180,
    cnDb: 12,
    marginDb: 5,
    ber: null,
    alarms: [],
    lnb: 'ok',
    serviceId: 101,
    ...rest,
    tuned:
      tuned === null
        ? null
        : {
            frequencyMHz: 3840,
            lnbLoMHz: 5150,
            polarisation: 'H',
            symbolRateKsps: 27500,
            system: 'DVB-S',
            modulation: 'QPSK',
            fec: '3/4',
            input: 1,
            lnbPower: true,
            ...tuned,
          },
  };
  return s;
}
/** What the simulator reports after a power cut (device/simulator/sim-commands.ts FACTORY_SETTINGS). */
const factory = status({
  locked: false,
  cnDb: null,
  marginDb: null,
  serviceId: null,
  tuned: { frequencyMHz: 4000 },
});

t.test('a receiver back on factory settings is a loss, with desired vs read-back', async (t) => {
  const loss = detectSettingsLoss({ verified, desiredKey: 'service:cctv1', held: false, status: factory });
  if (!loss) throw new Error('expected a loss');
  t.same(loss.differs, ['frequencyMHz'], 'the service id read back as none is not counted as different');
  t.equal(loss.evidence['desired.frequencyMHz'], 3840);
  t.equal(loss.evidence['readBack.frequencyMHz'], 4000);
  t.equal(loss.evidence['desired.serviceId'], 101);
  t.equal(loss.evidence['readBack.serviceId'], null);
  t.equal(loss.evidence.service, 'cctv1');
  t.equal(loss.evidence.differs, 'frequencyMHz');
  t.equal(loss.summary, 'frequencyMHz 4000 (want 3840)');
  t.ok(Object.keys(loss.evidence).length <= 32, 'fits the protocol evidence limit');
  for (const k of Object.keys(loss.evidence)) t.match(k, /^[A-Za-z][A-Za-z0-9_.]{0,63}$/, `key ${k}`);
});

t.test('every differing field is named', async (t) => {
  const s = status({ serviceId: 102, tuned: { polarisation: 'V', symbolRateKsps: 4420, lnbPower: false } });
  const loss = detectSettingsLoss({ verified, desiredKey: 'service:cctv1', held: false, status: s });
  t.same(loss?.differs, ['polarisation', 'symbolRateKsps', 'lnbPower', 'serviceId']);
  t.equal(
    loss?.summary,
    'polarisation V (want H), symbolRateKsps 4420 (want 27500), lnbPower false (want true), serviceId 102 (want 101)',
  );
});

t.test('not a loss', async (t) => {
  const cases: [string, Parameters<typeof detectSettingsLoss>[0]][] = [
    [
      'first start: nothing verified yet',
      { verified: null, desiredKey: 'service:cctv1', held: false, status: factory },
    ],
    [
      'a maintenance hold: the technician may retune',
      { verified, desiredKey: 'service:cctv1', held: true, status: factory },
    ],
    [
      'retuning: the desired key moved on',
      { verified, desiredKey: 'service:cctv2', held: false, status: factory },
    ],
    ['nothing holds the receiver', { verified, desiredKey: null, held: false, status: factory }],
    [
      'a lock loss with the settings intact (a fade)',
      { verified, desiredKey: 'service:cctv1', held: false, status: status({ locked: false }) },
    ],
    [
      'an LNB short is a fault, not forgotten settings',
      {
        verified,
        desiredKey: 'service:cctv1',
        held: false,
        status: status({ lnb: 'short', tuned: { frequencyMHz: 4000 } }),
      },
    ],
    [
      'a receiver that reports no tuning',
      { verified, desiredKey: 'service:cctv1', held: false, status: status({ tuned: null }) },
    ],
    [
      'within the 125 kHz tuning step',
      {
        verified,
        desiredKey: 'service:cctv1',
        held: false,
        status: status({ tuned: { frequencyMHz: 3840.0625 } }),
      },
    ],
  ];
  for (const [name, input] of cases) t.equal(detectSettingsLoss(input), null, name);
});

t.test('circular polarisation reads back as its linear equivalent (not a loss)', async (t) => {
  const circ = {
    ...verified,
    tuning: { ...cctv1, transponder: { ...cctv1.transponder, polarisation: 'L' as const } },
  };
  t.equal(
    detectSettingsLoss({ verified: circ, desiredKey: 'service:cctv1', held: false, status: status({}) }),
    null,
  );
  const v = detectSettingsLoss({
    verified: circ,
    desiredKey: 'service:cctv1',
    held: false,
    status: status({ tuned: { polarisation: 'V' } }),
  });
  t.same(v?.differs, ['polarisation']);
  t.equal(v?.evidence['desired.polarisation'], 'H');
});
