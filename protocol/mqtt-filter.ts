/**
 * MQTT 3.1.1 topic names and subscription filters (§4.7): validation, matching, and whether one filter
 * covers another (how the ACL checks a subscription against a read rule).
 */

/** MQTT 3.1.1 §1.5.3: topic strings are at most 65 535 bytes of UTF-8. */
const MAX_TOPIC_BYTES = 65535;

function utf8Length(s: string): number {
  return new TextEncoder().encode(s).length;
}

/** Why `topic` is not a valid MQTT topic name (MQTT 3.1.1 §4.7: no wildcards, non-empty, no NUL), or null. */
export function topicNameProblem(topic: string): string | null {
  if (topic.length === 0) return 'topic is empty';
  if (topic.includes('\u0000')) return 'topic contains NUL';
  if (/[+#]/.test(topic)) return 'a topic name may not contain the wildcards + or #';
  if (utf8Length(topic) > MAX_TOPIC_BYTES) return 'topic longer than 65535 bytes';
  return null;
}

/**
 * Why `filter` is not a valid MQTT subscription filter (MQTT 3.1.1 §4.7.1: `#` only as the whole last
 * level, `+` only as a whole level), or null.
 */
export function filterProblem(filter: string): string | null {
  if (filter.length === 0) return 'filter is empty';
  if (filter.includes('\u0000')) return 'filter contains NUL';
  if (utf8Length(filter) > MAX_TOPIC_BYTES) return 'filter longer than 65535 bytes';
  const levels = filter.split('/');
  for (const [i, level] of levels.entries()) {
    if (level.includes('#') && (level !== '#' || i !== levels.length - 1)) {
      return '# must be a whole level and the last one';
    }
    if (level.includes('+') && level !== '+') return '+ must be a whole level';
  }
  return null;
}

/**
 * Does the topic NAME match the subscription FILTER (MQTT 3.1.1 §4.7)? `#` also matches the parent level
 * (`a/#` matches `a`); wildcards in the first level do not match topics starting with `$` (§4.7.2).
 */
export function topicMatchesFilter(topic: string, filter: string): boolean {
  if (topicNameProblem(topic) || filterProblem(filter)) return false;
  if (topic.startsWith('$') && (filter.startsWith('+') || filter.startsWith('#'))) return false;
  const t = topic.split('/');
  const f = filter.split('/');
  for (let i = 0; i < f.length; i++) {
    const fl = f[i];
    if (fl === '#') return true;
    const tl = t[i];
    if (tl === undefined) return false;
    if (fl !== '+' && fl !== tl) return false;
  }
  return t.length === f.length;
}

/**
 * Is every topic that `filter` matches also matched by `pattern` (a filter too)? This is how a
 * subscription is checked against a read rule: a station subscribing to `…/st/+/schedule` is refused even
 * though the set contains its own schedule, because it also contains every other station's.
 */
export function filterCoveredBy(filter: string, pattern: string): boolean {
  if (filterProblem(filter) || filterProblem(pattern)) return false;
  const f = filter.split('/');
  const p = pattern.split('/');
  for (let i = 0; ; i++) {
    const pl = p[i];
    const fl = f[i];
    if (pl === '#') {
      // `#` matches this level and everything below; a `$` first level is not matched by a leading `#`.
      return !(i === 0 && fl !== undefined && fl.startsWith('$'));
    }
    if (fl === undefined) return pl === undefined;
    if (pl === undefined) return false;
    if (fl === '#') return false;
    if (pl === '+') {
      if (i === 0 && fl.startsWith('$')) return false;
      continue;
    }
    if (fl === '+' || fl !== pl) return false;
  }
}
