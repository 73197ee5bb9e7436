// Pure helpers of the agent console: labels, durations, and which channel a message came
// through. No DOM, no I/O.

export const CHANNEL_LABEL = {
  web: 'Web chat',
  sms: 'SMS',
  whatsapp: 'WhatsApp',
  email: 'E-mail',
  messenger: 'Messenger',
  device: 'Other device',
};

export const STATUS_LABEL = {
  new: 'New',
  open: 'Open',
  pending: 'Pending',
  on_hold: 'On hold',
  solved: 'Solved',
  closed: 'Closed',
};

export const LEVEL_LABEL = { high: 'High', medium: 'Medium', low: 'Low', away: 'Away' };

export const OUTCOME_LABEL = {
  unchanged: 'already in that status',
  continued: 'ticket continues',
  reopened: 'ticket reopened',
  new_ticket: 'a new ticket started',
  ignored: 'ignored',
  woke_up: 'ticket woke up',
  closed: 'ticket closed',
  status_set: 'status set',
  rejected: 'refused',
  became_inactive: 'ticket became inactive',
};

/** The customer's display name: user_name, else a short form of the user id. */
export function customerName(summary) {
  if (summary && summary.user_name) return summary.user_name;
  return shortUser(summary ? summary.user : '');
}

export function shortUser(user) {
  if (!user) return 'Visitor';
  const bare = String(user).replace(/^u_/, '');
  return `Visitor ${bare.slice(0, 6)}`;
}

export function initials(name) {
  const words = String(name || '?')
    .replace(/^Visitor\s+/, '')
    .split(/\s+/)
    .filter(Boolean);
  if (words.length === 0) return '?';
  if (words.length === 1) return words[0].slice(0, 2).toUpperCase();
  return (words[0][0] + words[words.length - 1][0]).toUpperCase();
}

/** "who owns it" line: Bot / Queue #2 / Grace (or "You"). */
export function ownerLabel(owner, meId) {
  if (!owner) return '';
  if (owner.kind === 'bot') return 'Bot';
  if (owner.kind === 'queue') return owner.queue_position ? `Queue #${owner.queue_position}` : 'Queue';
  if (owner.kind === 'agent') {
    if (meId && owner.agent_id === meId) return 'You';
    return owner.agent_name || owner.agent_id || 'Agent';
  }
  return owner.kind;
}

/** Compact duration: "now", "45 s", "12 min", "3 h", "2 d". */
export function shortDuration(ms) {
  if (!Number.isFinite(ms) || ms < 0) return '';
  const s = Math.floor(ms / 1000);
  if (s < 10) return 'now';
  if (s < 60) return `${s} s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m} min`;
  const h = Math.floor(m / 60);
  if (h < 48) return `${h} h`;
  return `${Math.floor(h / 24)} d`;
}

/** "about 42 s", "about 3 min"; "unknown" for 0. */
export function latencyLabel(ms) {
  if (!ms) return 'unknown';
  if (ms < 60000) return `about ${Math.max(1, Math.round(ms / 1000))} s`;
  if (ms < 3600000) return `about ${Math.round(ms / 60000)} min`;
  return `about ${Math.round(ms / 360000) / 10} h`;
}

export function clock(ts) {
  if (!ts) return '';
  const d = new Date(ts);
  return d.toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' });
}

export function dateTime(ts) {
  if (!ts) return '';
  const d = new Date(ts);
  return d.toLocaleString([], { dateStyle: 'medium', timeStyle: 'short' });
}

/** "14:05" today, else "21 Nov, 14:05". */
export function sinceLabel(ts) {
  if (!ts) return '';
  const d = new Date(ts);
  if (d.toDateString() === new Date().toDateString()) return clock(ts);
  return d.toLocaleString([], { day: 'numeric', month: 'short', hour: '2-digit', minute: '2-digit' });
}

export function dayLabel(ts) {
  const d = new Date(ts);
  const today = new Date();
  const yesterday = new Date(Date.now() - 86400000);
  if (d.toDateString() === today.toDateString()) return 'Today';
  if (d.toDateString() === yesterday.toDateString()) return 'Yesterday';
  return d.toLocaleDateString([], { weekday: 'long', day: 'numeric', month: 'long' });
}

/** The active non-web binding of a channel list (from a summary or a handoff event). */
export function awayChannel(channels) {
  for (const b of channels || []) if (b && b.active && b.channel !== 'web') return b;
  return null;
}

/**
 * Annotates a thread (ascending messages) with the channel each message travelled on,
 * as far as the data shows it: a visitor message with a `cid` came from a Parley client
 * (web); one without came through a gateway, i.e. the channel active at that point of the
 * timeline (known from the last handoff event before it, else from `fallbackChannels`,
 * the conversation's current bindings). Agent and bot messages written while a channel is
 * active were also delivered there (`alsoTo`).
 * Returns Map(seq -> {via?: channel, alsoTo?: channel}).
 */
export function channelsOf(messages, fallbackChannels) {
  const out = new Map();
  // Before the first handoff event in view, assume the bindings that were in force then
  // are unknown; use the first handoff event's own channels if any, else the current ones.
  const firstEvent = messages.find((m) => m.body && m.body.event && Array.isArray(m.body.event.channels));
  let away = firstEvent ? null : awayChannel(fallbackChannels);
  for (const m of messages) {
    const ev = m.body && m.body.event;
    if (ev && Array.isArray(ev.channels)) {
      away = awayChannel(ev.channels);
      continue;
    }
    const role = m.author && m.author.role;
    if (role === 'visitor') {
      if (m.cid) out.set(m.seq, { via: 'web' });
      else if (away) out.set(m.seq, { via: away.channel });
    } else if ((role === 'agent' || role === 'bot') && away) {
      out.set(m.seq, { alsoTo: away.channel });
    }
  }
  return out;
}

/** A short line for a rich payload (what the customer was shown). */
export function richSummary(rich, payload) {
  if (!rich || rich === 'none' || !payload) return '';
  switch (rich) {
    case 'quick_replies':
      return 'Quick replies';
    case 'buttons':
      return 'Buttons';
    case 'carousel':
      return 'Carousel';
    case 'form':
      return 'Form';
    case 'csat':
      return `Satisfaction survey, 1 to ${payload.scale || 5}`;
    default:
      return rich;
  }
}

/** Labels of a rich payload's options / items / fields, as plain strings. */
export function richItems(rich, payload) {
  if (!payload) return [];
  const str = (x) => (typeof x === 'string' ? x : '');
  if (rich === 'quick_replies' || rich === 'buttons') {
    return (payload.options || []).map((o) => str(o && o.label));
  }
  if (rich === 'carousel') return (payload.items || []).map((i) => str(i && i.title));
  if (rich === 'form') return (payload.fields || []).map((f) => str(f && f.label));
  if (rich === 'csat') {
    const n = payload.scale === 3 ? 3 : 5;
    return Array.from({ length: n }, (_, i) => String(i + 1));
  }
  return [];
}

export function fileSize(n) {
  if (!Number.isFinite(n)) return '';
  if (n < 1024) return `${n} B`;
  if (n < 1048576) return `${Math.round(n / 102.4) / 10} KB`;
  return `${Math.round(n / 104857.6) / 10} MB`;
}
