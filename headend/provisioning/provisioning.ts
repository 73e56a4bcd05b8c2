/**
 * Station provisioning (issue 5, DESIGN.md §7 "Station credentials"): create a station with a random secret
 * of ≥ 128 bits that is returned once and stored only as a Mosquitto `$7$` hash; rotate; revoke. Each action
 * is one transaction with its audit row. After any of them, Mosquitto deployments regenerate their
 * password_file (`cli mosquitto-files`) and reload; the embedded broker reads the registry live.
 */

import { StoreError } from '../store/errors.js';
import type { Store } from '../store/index.js';
import type { NewStation, Station } from '../store/stations.js';
import { generateSecret, hashSecret } from './password-hash.js';

/** What provisioning needs. */
export interface ProvisioningDeps {
  store: Store;
  /** PBKDF2 iterations of new hashes (config `credentials.iterations`). */
  iterations: number;
  /** The headend's own MQTT username: no station may take it. */
  headendUsername: string;
  /** Who is acting, for the audit log (`cli:root`, `http:alice`). */
  actor: string;
  /** Secret generator (tests may pass a deterministic one). */
  secret?: () => string;
}

/** A station together with its new secret: show it once, then forget it. */
export interface Credentialed {
  station: Station;
  secret: string;
}

/** Registers a station and gives it its first credential. */
export function provisionStation(deps: ProvisioningDeps, input: NewStation): Credentialed {
  if (input.id === deps.headendUsername) {
    throw new StoreError('CONFLICT', `${input.id} is the headend's own MQTT username`);
  }
  const secret = (deps.secret ?? generateSecret)();
  const hash = hashSecret(secret, { iterations: deps.iterations });
  const station = deps.store.transaction(() => {
    const s = deps.store.stations.create(input);
    deps.store.stations.setCredential(s.id, hash);
    deps.store.audit.record({
      actor: deps.actor,
      action: 'station.provision',
      target: s.id,
      details: { county: s.county },
    });
    return deps.store.stations.require(s.id);
  });
  return { station, secret };
}

/** Replaces a station's credential; the old secret stops working at once on the embedded broker. */
export function rotateCredential(deps: ProvisioningDeps, stationId: string): Credentialed {
  const secret = (deps.secret ?? generateSecret)();
  const hash = hashSecret(secret, { iterations: deps.iterations });
  const station = deps.store.transaction(() => {
    deps.store.stations.setCredential(stationId, hash);
    deps.store.audit.record({ actor: deps.actor, action: 'station.rotate', target: stationId });
    return deps.store.stations.require(stationId);
  });
  return { station, secret };
}

/** Revokes a station: its credential is deleted and it is refused from now on; its history stays. */
export function revokeStation(deps: ProvisioningDeps, stationId: string, reason?: string): Station {
  return deps.store.transaction(() => {
    deps.store.stations.revoke(stationId);
    deps.store.audit.record({
      actor: deps.actor,
      action: 'station.revoke',
      target: stationId,
      ...(reason ? { details: { reason } } : {}),
    });
    return deps.store.stations.require(stationId);
  });
}
