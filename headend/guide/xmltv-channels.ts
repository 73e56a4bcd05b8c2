/**
 * Which line-up service an XMLTV channel feeds (issue 5: "mapping XMLTV channel ids to line-up
 * services"). The admin's mapping table decides, by channel id first, else by display-name; without a
 * mapping row, a channel id equal to a service key, or a display-name equal to a service's name, maps
 * automatically. Names are compared loosely (NFKC, case, spaces, dashes), so `CCTV-1 综合` and
 * `cctv1综合` meet. Pure functions; the table lives in `guide_channel_map`.
 */

/** One row of the mapping table. */
export interface ChannelMapRow {
  matchKind: 'id' | 'display-name';
  matchValue: string;
  service: string;
}

/** How a channel was mapped, for the import report. */
export type MappedBy = 'mapping-id' | 'mapping-display-name' | 'service-key' | 'service-name';

export type ChannelResolution =
  | { ok: true; service: string; by: MappedBy }
  | { ok: false; reason: 'no-match' | 'unknown-service'; detail: string };

/** A channel as the file declares it (display names may be empty when the file has no `<channel>`). */
export interface ChannelInfo {
  id: string;
  displayNames: readonly string[];
}

/** A line-up service as far as mapping cares. */
export interface LineupService {
  key: string;
  name: string;
}

/** Loose form of a name for matching. */
export function nameKey(s: string): string {
  return s
    .normalize('NFKC')
    .toLowerCase()
    .replace(/[\s_\-–—·.]+/g, '');
}

/** A resolver built once per import: the table and line-up indexed for O(1) look-ups. */
export class ChannelMapper {
  private readonly byId = new Map<string, string>();
  private readonly byName = new Map<string, string>();
  private readonly services = new Map<string, LineupService>();
  private readonly serviceByName = new Map<string, string>();

  constructor(rows: readonly ChannelMapRow[], lineup: readonly LineupService[]) {
    for (const s of lineup) {
      this.services.set(s.key, s);
      const k = nameKey(s.name);
      if (!this.serviceByName.has(k)) this.serviceByName.set(k, s.key);
    }
    for (const r of rows) {
      if (r.matchKind === 'id') this.byId.set(r.matchValue, r.service);
      else this.byName.set(nameKey(r.matchValue), r.service);
    }
  }

  resolve(channel: ChannelInfo): ChannelResolution {
    const explicit = this.byId.get(channel.id);
    if (explicit !== undefined) return this.known(explicit, 'mapping-id', channel);
    for (const n of channel.displayNames) {
      const s = this.byName.get(nameKey(n));
      if (s !== undefined) return this.known(s, 'mapping-display-name', channel);
    }
    if (this.services.has(channel.id)) return { ok: true, service: channel.id, by: 'service-key' };
    for (const n of channel.displayNames) {
      const s = this.serviceByName.get(nameKey(n));
      if (s !== undefined) return { ok: true, service: s, by: 'service-name' };
    }
    return {
      ok: false,
      reason: 'no-match',
      detail: `no mapping for channel "${channel.id}"${
        channel.displayNames.length > 0 ? ` (${channel.displayNames.join(' / ')})` : ''
      } and no line-up service with that key or name`,
    };
  }

  private known(service: string, by: MappedBy, channel: ChannelInfo): ChannelResolution {
    if (this.services.has(service)) return { ok: true, service, by };
    return {
      ok: false,
      reason: 'unknown-service',
      detail: `channel "${channel.id}" is mapped to "${service}", which is not in the line-up`,
    };
  }
}
