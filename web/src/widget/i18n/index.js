// Locale selection: the `locale` attribute or option, else navigator.language; English
// for anything without a strings file. Dates, times and numbers always go through Intl
// with the full locale tag (so fr-CA formats as fr-CA, with the fr strings).
import ar from './ar.js';
import en from './en.js';
import fr from './fr.js';

const TABLES = { en, fr, ar };

export function pickLocale(wanted) {
  const tag = wanted || (globalThis.navigator && navigator.language) || 'en';
  let locale = 'en';
  try {
    locale = Intl.getCanonicalLocales(tag)[0] || 'en';
  } catch {}
  const strings = TABLES[locale.split('-')[0].toLowerCase()] || en;
  const t = (key, vars) => {
    let s = strings[key] ?? en[key] ?? key;
    if (vars) s = s.replace(/\{(\w+)\}/g, (m, k) => (vars[k] ?? m));
    return s;
  };
  return { locale: strings === en && !/^en\b/i.test(locale) ? 'en' : locale, dir: strings.dir, t };
}
