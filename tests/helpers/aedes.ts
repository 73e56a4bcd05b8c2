/**
 * An embedded (aedes) broker for tests, wired exactly as the headend wires it: registry look-ups from a
 * fresh in-memory store, the contract ACL, port 0. Closed (and the store with it) on teardown.
 */
import { randomBytes } from 'node:crypto';
import type { Test } from 'tap';
import { type EmbeddedBroker, startEmbeddedBroker } from '../../headend/broker/embedded.js';
import { silentLogger } from '../../headend/log.js';
import { openStore, type Store } from '../../headend/store/index.js';
import { DEFAULT_TOPIC_ROOT } from '../../protocol/topics.js';

/** A running test broker and what it authenticates against. */
export interface TestBroker {
  broker: EmbeddedBroker;
  store: Store;
  url: string;
  headend: { username: string; password: string };
}

/** Starts an embedded broker on 127.0.0.1:0 over `store` (a new in-memory store when omitted). */
export async function startTestBroker(
  t: Test,
  opts: { store?: Store; topicRoot?: string; revalidateEveryMs?: number } = {},
): Promise<TestBroker> {
  const store = opts.store ?? openStore(':memory:');
  const headend = { username: 'headend', password: randomBytes(18).toString('base64url') };
  const broker = await startEmbeddedBroker({
    credentialOf: (id) => store.stations.credentialOf(id),
    topicRoot: opts.topicRoot ?? DEFAULT_TOPIC_ROOT,
    headendUser: headend,
    logger: silentLogger(),
    listen: { host: '127.0.0.1', port: 0 },
    revalidateEveryMs: opts.revalidateEveryMs ?? 0,
  });
  t.teardown(async () => {
    await broker.close();
    if (!opts.store) store.close();
  });
  return { broker, store, url: broker.url, headend };
}
