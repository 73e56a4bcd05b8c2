/**
 * The ReceiverDriver contract (receiver-driver-suite.ts) against:
 * - the simulated RX8200 over a socat pty pair with the real serialport binding,
 * - the simulated RX8200 over raw TCP (ser2net style),
 * - a REAL receiver when RURALSAT_RX_PORT names its port (`/dev/serial/by-id/…` or `tcp:host:port`);
 *   otherwise that target is reported as SKIPPED, never as passed.
 * Real-receiver settings: RURALSAT_RX_ADDRESS (default 2), RURALSAT_RX_LINEUP (default the sample
 * line-up), RURALSAT_RX_SERVICE / RURALSAT_RX_OTHER_SERVICE (line-up keys; default cctv1 / none),
 * RURALSAT_RX_EMPTY_MHZ (a frequency with no carrier on the same polarisation; default: test skipped).
 * Careful: the suite switches the LNB supply off and on.
 */
import t from 'tap';
import { silentLogger } from '../../device/log.js';
import { createRx8200Driver } from '../../device/receiver/drivers/rx8200.js';
import { loadLineup } from '../../device/receiver/lineup-file.js';
import { realTimers } from '../../device/receiver/timers.js';
import { SerialTransport } from '../../device/receiver/transports/serial.js';
import { parseHostPort, TcpTransport } from '../../device/receiver/transports/tcp.js';
import { Transponder } from '../../protocol/messages/tuning.js';
import { defaultTiming, shortTiming } from '../../protocol/timing.js';
import { receiverDriverContract } from './receiver-driver-suite.js';
import { SAMPLE_LINEUP, startSimRig, type Via } from './receiver-harness.js';

for (const via of ['pty', 'tcp'] as Via[]) {
  t.test(`RX8200 driver ↔ simulator over ${via}`, async (t) => {
    receiverDriverContract(t, async (t) => {
      const rig = await startSimRig(t, { via });
      return {
        driver: rig.driver,
        service: rig.service('cctv1'),
        otherService: rig.service('gansu'),
        // 3700 MHz H carries nothing in the sample line-up.
        emptyTransponder: Transponder.parse({ ...rig.service('cctv1').transponder, frequencyMHz: 3700 }),
        rawQuery: 'OPR;QUA',
        lockTimeoutMs: shortTiming.receiverLockTimeoutMs,
        close: () => rig.close(),
      };
    });
  });
}

// Reading the environment is this test's whole point: it names real hardware when a technician has some.
const realPort = process.env.RURALSAT_RX_PORT;
t.test(
  'RX8200 driver ↔ real receiver',
  { skip: realPort ? false : 'set RURALSAT_RX_PORT to run against a real receiver' },
  async (t) => {
    const port = realPort ?? '';
    const env = process.env;
    const lineup = await loadLineup(env.RURALSAT_RX_LINEUP ?? SAMPLE_LINEUP);
    const find = (key: string | undefined) => (key ? (lineup.find((s) => s.key === key) ?? null) : null);
    const service = find(env.RURALSAT_RX_SERVICE ?? 'cctv1');
    if (!service) throw new Error('RURALSAT_RX_SERVICE names no service of the line-up');
    const emptyMHz = env.RURALSAT_RX_EMPTY_MHZ ? Number(env.RURALSAT_RX_EMPTY_MHZ) : null;
    receiverDriverContract(t, async (t) => {
      const logger = silentLogger();
      const deps = {
        timers: realTimers,
        logger,
        reopenMinMs: defaultTiming.transportReopenMinMs,
        reopenMaxMs: defaultTiming.transportReopenMaxMs,
      };
      const transport = port.startsWith('tcp:')
        ? new TcpTransport(parseHostPort(port.slice(4)), deps)
        : new SerialTransport({ path: port, baudRate: 9600 }, deps);
      await transport.open();
      const driver = createRx8200Driver(
        { address: Number(env.RURALSAT_RX_ADDRESS ?? 2), timing: defaultTiming },
        { transport, timers: realTimers, logger },
      );
      let closed = false;
      const close = async () => {
        if (closed) return;
        closed = true;
        await driver.close();
      };
      t.teardown(close);
      return {
        driver,
        service,
        otherService: find(env.RURALSAT_RX_OTHER_SERVICE),
        emptyTransponder: emptyMHz
          ? Transponder.parse({ ...service.transponder, frequencyMHz: emptyMHz })
          : null,
        rawQuery: 'OPR;QUA',
        lockTimeoutMs: defaultTiming.receiverLockTimeoutMs,
        close,
      };
    });
  },
);
