// Locale selection: the `locale` attribute or option, else navigator.language; English
// for anything without a strings file. Dates, times and numbers always go through Intl
// with the full locale tag (so fr-CA formats as fr-CA, with the fr strings).
//
// English is built in; the other tables are loaded on demand (separate chunks in the ES
// module build, so a visitor downloads English plus at most one other table). Until a
// table has arrived pickLocale answers English with `pending` set; loadLocale(pending)
// resolves once it is there, and the widget then picks again.
import en from './en.js';

const TABLES = { en };
const LOAD = { fr: () => import('./fr.js'), ar: () => import('./ar.js') };

export async function loadLocale(lang) {
  TABLES[lang] = (await LOAD[lang]()).default;
}

export function pickLocale(wanted) {
  const tag = wanted || (globalThis.navigator && navigator.language) || 'en';
  let locale = 'en';
  try {
    locale = Intl.getCanonicalLocales(tag)[0] || 'en';
  } catch {}
  const lang = locale.split('-')[0].toLowerCase();
  const strings = TABLES[lang] || en;
  const t = (key, vars) => {
    let s = strings[key] ?? en[key] ?? key;
    if (vars) s = s.replace(/\{(\w+)\}/g, (m, k) => (vars[k] ?? m));
    return s;
  };
  const pending = !TABLES[lang] && Object.hasOwn(LOAD, lang) ? lang : null;
  return { locale: strings === en && lang !== 'en' && !pending ? 'en' : locale, dir: strings.dir, t, pending };
}
