// Live updates over Server-Sent Events (/api/v1/stream). EventSource reconnects by itself and sends
// Last-Event-ID, so the server replays what was missed; `resync` (or a long gap) tells views to refetch.

const listeners = new Map();
let source = null;
let statusListener = null;

/** Listens to one message type (`station`, `event`, `schedule`, `alarm`, `guide`, `resync`); returns the remover. */
export function onLive(type, fn) {
  let set = listeners.get(type);
  if (!set) {
    set = new Set();
    listeners.set(type, set);
  }
  set.add(fn);
  return () => set.delete(fn);
}

/** Reports `open` / `reconnecting` for the header's indicator. */
export function onLiveStatus(fn) {
  statusListener = fn;
}

function emit(type, data) {
  for (const fn of listeners.get(type) ?? []) {
    try {
      fn(data);
    } catch (err) {
      console.error('live listener failed', err);
    }
  }
}

export function startLive() {
  if (source) return;
  source = new EventSource('/api/v1/stream');
  let wasOpen = false;
  source.addEventListener('open', () => {
    statusListener?.('open');
    // After a drop the server replays what it still has; views refetch anyway to be sure.
    if (wasOpen) emit('resync', {});
    wasOpen = true;
  });
  source.addEventListener('error', () => statusListener?.('reconnecting'));
  for (const type of ['station', 'event', 'schedule', 'alarm', 'guide', 'conference', 'resync']) {
    source.addEventListener(type, (e) => {
      let data = null;
      try {
        data = JSON.parse(e.data);
      } catch {
        return;
      }
      emit(type, data);
    });
  }
}

export function stopLive() {
  source?.close();
  source = null;
}
