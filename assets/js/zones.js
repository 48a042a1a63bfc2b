// Time zones and calendar dates. The server buckets every report in the viewing zone; the UI
// only needs "today" in that zone and plain calendar arithmetic on YYYY-MM-DD strings.

import { select } from './dom.js';

// Browsers list ICU's canonical ids, some of which are IANA's old names; show the current ones
// (the server accepts both, but people look for Kolkata, not Calcutta).
const RENAMED = {
  'Asia/Calcutta': 'Asia/Kolkata', 'Asia/Katmandu': 'Asia/Kathmandu', 'Asia/Saigon': 'Asia/Ho_Chi_Minh',
  'Asia/Rangoon': 'Asia/Yangon', 'Europe/Kiev': 'Europe/Kyiv', 'America/Godthab': 'America/Nuuk',
  'Atlantic/Faeroe': 'Atlantic/Faroe', 'Pacific/Truk': 'Pacific/Chuuk', 'Pacific/Ponape': 'Pacific/Pohnpei',
  'Pacific/Enderbury': 'Pacific/Kanton', 'Africa/Asmera': 'Africa/Asmara', 'Asia/Ulan_Bator': 'Asia/Ulaanbaatar',
  'America/Buenos_Aires': 'America/Argentina/Buenos_Aires', 'America/Catamarca': 'America/Argentina/Catamarca',
  'America/Cordoba': 'America/Argentina/Cordoba', 'America/Jujuy': 'America/Argentina/Jujuy',
  'America/Mendoza': 'America/Argentina/Mendoza', 'America/Indianapolis': 'America/Indiana/Indianapolis',
  'America/Louisville': 'America/Kentucky/Louisville', 'Asia/Thimbu': 'Asia/Thimphu',
};

export function currentName(zone) {
  return RENAMED[zone] || zone;
}

export function browserZone() {
  try {
    return currentName(Intl.DateTimeFormat().resolvedOptions().timeZone || 'UTC');
  } catch {
    return 'UTC';
  }
}

/** The local date (YYYY-MM-DD) of an instant in `zone`. */
export function localDate(zone, instant = Date.now()) {
  const parts = new Intl.DateTimeFormat('en-US', {
    timeZone: zone, year: 'numeric', month: '2-digit', day: '2-digit',
  }).formatToParts(new Date(instant));
  const get = (type) => parts.find((p) => p.type === type).value;
  return `${get('year')}-${get('month')}-${get('day')}`;
}

/** `date` plus `n` calendar days. */
export function addDays(date, n) {
  const d = new Date(`${date}T00:00:00Z`);
  d.setUTCDate(d.getUTCDate() + n);
  return d.toISOString().slice(0, 10);
}

/** The `n` dates ending at `last`, oldest first. */
export function lastDays(last, n) {
  const out = [];
  for (let i = n - 1; i >= 0; i -= 1) out.push(addDays(last, -i));
  return out;
}

/** Monday = 0 … Sunday = 6. */
export function weekday(date) {
  return (new Date(`${date}T00:00:00Z`).getUTCDay() + 6) % 7;
}

/** The current UTC offset of `zone`, as "+05:45". */
export function offsetLabel(zone, instant = Date.now()) {
  try {
    const name = new Intl.DateTimeFormat('en-US', { timeZone: zone, timeZoneName: 'longOffset' })
      .formatToParts(new Date(instant)).find((p) => p.type === 'timeZoneName').value;
    return name === 'GMT' ? '+00:00' : name.replace('GMT', '');
  } catch {
    return '';
  }
}

let cachedZones;
/** Every zone the browser knows, UTC first. */
export function allZones() {
  if (!cachedZones) {
    let zones = [];
    try { zones = Intl.supportedValuesOf('timeZone').map(currentName); } catch { zones = []; }
    cachedZones = ['UTC', ...[...new Set(zones)].filter((z) => z !== 'UTC').sort()];
  }
  return cachedZones;
}

/** A zone <select>; always includes `current` even if the browser does not list it. */
export function zoneSelect(current, onChange, attrs = {}) {
  const zones = allZones().includes(current) ? allZones() : [current, ...allZones()];
  return select(zones.map((z) => [z, z]), current, onChange, { 'aria-label': 'Time zone', ...attrs });
}
