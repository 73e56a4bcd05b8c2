/**
 * The headend's provisioning output is a config the agent accepts as-is (issue 5: "a ready agent config
 * file"). headend/ may not import device/ (DESIGN.md §2), so this contract test is where the two schemas
 * meet: anything the headend writes must load with the agent's own loader, with the secret in the right place.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import t from 'tap';
import { loadAgentConfig } from '../../device/config.js';
import { renderAgentConfig, writeAgentConfig } from '../../headend/provisioning/agent-config.js';
import { provisionStation } from '../../headend/provisioning/provisioning.js';
import { openStore } from '../../headend/store/index.js';

const defaults = {
  recordingsDir: '/var/lib/ruralsat/recordings',
  dataDir: '/var/lib/ruralsat/agent',
  streamUrl: 'udp://239.1.1.1:5000',
  receiverTransport: 'serial' as const,
  receiverAddress: '/dev/serial/by-id/usb-FTDI_FT232R-if00-port0',
};

t.test('every provisioned station gets a config the agent loads unchanged', async (t) => {
  const store = openStore(':memory:');
  t.teardown(() => store.close());
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ruralsat-provcfg-'));
  t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }));
  const deps = { store, iterations: 1000, headendUsername: 'headend', actor: 'test' };
  const stations = [
    provisionStation(deps, { id: 'kongtong-anguo', name: '安国镇', county: 'kongtong' }),
    provisionStation(deps, {
      id: 'jingning-weirong',
      name: '威戎镇',
      county: 'jingning',
      receivers: [
        {
          id: 'rx1',
          transport: 'tcp',
          address: '10.20.3.9:4001',
          busAddress: 7,
          streamUrl: 'udp://239.20.3.9:5000',
        },
      ],
    }),
  ];
  for (const { station, secret } of stations) {
    for (const brokerUrl of ['mqtts://headend.pingliang.example:8883', 'mqtt://127.0.0.1:1883']) {
      const cfg = renderAgentConfig({
        station,
        secret,
        brokerUrl,
        topicRoot: 'ruralsat/v1',
        timeZone: 'Asia/Shanghai',
        defaults,
      });
      const file = path.join(dir, `${station.id}-${new URL(brokerUrl).protocol.replace(':', '')}.json`);
      writeAgentConfig(file, cfg);
      const loaded = loadAgentConfig({ file, env: {} });
      t.match(
        loaded,
        {
          stationId: station.id,
          broker: { url: brokerUrl, username: station.id, password: secret },
          topicRoot: 'ruralsat/v1',
          timeZone: 'Asia/Shanghai',
          receiver: { family: 'rx8200' },
        },
        `${station.id} via ${brokerUrl}: loads with the agent's schema`,
      );
    }
  }
  const weirong = loadAgentConfig({ file: path.join(dir, 'jingning-weirong-mqtts.json'), env: {} });
  t.match(weirong.receiver, { transport: { type: 'tcp', host: '10.20.3.9', port: 4001 }, address: 7 });
  t.equal(weirong.streamUrl, 'udp://239.20.3.9:5000');
});
