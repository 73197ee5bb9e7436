// Locale selection: the `locale` attribute or option, else navigator.language; English
// for anything without a strings file. Dates, times and numbers always go through Intl
// with the full locale tag (so fr-CA formats as fr-CA, with the fr strings).
//
// Every table is loaded on demand (its own module in the ES module build,
// parley-locale-<lang>.mjs: a visitor downloads the one table they need). Until it has
// arrived, pickLocale answers `pending` with the launcher's English label only (BOOT: the
// widget renders just the launcher meanwhile, so it shows as fast as before), and
// loadLocale(pending) resolves once it is there. A table that cannot be loaded falls back
// to English, then to the keys themselves.
export const BOOT = { open: 'Open messages', openUnread: 'Open messages, {n} unread' };
const TABLES = {};
const LOAD = { en: () => import('./en.js'), fr: () => import('./fr.js'), ar: () => import('./ar.js') };

export async function loadLocale(lang) {
  try {
    TABLES[lang] = (await LOAD[lang]()).default;
  } catch (e) {
    TABLES[lang] = lang === 'en' ? {} : (await loadLocale('en'), TABLES.en);
    setTimeout(() => {
      throw e;
    });
  }
}

export function pickLocale(wanted) {
  const tag = wanted || (globalThis.navigator && navigator.language) || 'en';
  let locale = 'en';
  try {
    locale = Intl.getCanonicalLocales(tag)[0] || 'en';
  } catch {}
  let lang = locale.split('-')[0].toLowerCase();
  if (!Object.hasOwn(LOAD, lang)) lang = locale = 'en';
  const strings = TABLES[lang] || BOOT;
  const t = (key, vars) => {
    let s = strings[key] ?? key;
    if (vars) s = s.replace(/\{(\w+)\}/g, (m, k) => (vars[k] ?? m));
    return s;
  };
  return { locale, dir: strings.dir || 'ltr', t, pending: TABLES[lang] ? null : lang };
}
