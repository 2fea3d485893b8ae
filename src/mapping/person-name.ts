import { isGivenName } from '../cleaning/given-names.js';
import { collapseSpaces } from '../values.js';

/**
 * Splits a person's name as legacy CRMs hold it into honorific, first, middle, last, suffix and nickname.
 *
 * Written here after measuring the npm parsers on our table of ugly cases (test/person-name.test.ts,
 * 52 cases): parse-full-name 1.2.7 passes 42 (it trips on runs of spaces and tabs, "Smith,John",
 * "Van Morrison", stacked honorifics, a "V" suffix) and humanparser 2.7.0 passes 41 (single names,
 * "Smith, Dr. John", nicknames). This one passes all of them, is pure and small, never throws, and never
 * changes letter case: proper-casing is a cleaning rule's job.
 */
export interface PersonName {
  readonly honorific: string | null;
  readonly first: string | null;
  readonly middle: string | null;
  readonly last: string | null;
  readonly suffix: string | null;
  readonly nickname: string | null;
  /** The other person of a household name ("John and Jane Smith": Jane Smith), for a field the plan maps. */
  readonly partner: string | null;
  /** What the parse found worth counting: `household` (two people in one name), `symbols_dropped` (an emoji…). */
  readonly flags: readonly string[];
}

export const NAME_PARTS = ['honorific', 'first', 'middle', 'last', 'suffix', 'nickname', 'partner'] as const;
export type NamePart = (typeof NAME_PARTS)[number];

const NO_FLAGS: readonly string[] = Object.freeze([]);
const EMPTY: PersonName = {
  honorific: null,
  first: null,
  middle: null,
  last: null,
  suffix: null,
  nickname: null,
  partner: null,
  flags: NO_FLAGS,
};

const HONORIFICS = new Set([
  'mr',
  'mrs',
  'ms',
  'miss',
  'mx',
  'dr',
  'prof',
  'professor',
  'sir',
  'dame',
  'lady',
  'lord',
  'rev',
  'reverend',
  'fr',
  'father',
  'sr',
  'sister',
  'hon',
  'judge',
  'capt',
  'captain',
  'col',
  'gen',
  'lt',
  'maj',
  'sgt',
  'mme',
  'mlle',
  'herr',
  'frau',
  'señor',
  'sra',
  'srta',
  'don',
  'doña',
  // Civil, political, military, religious and academic titles that are not also common given names (Dean,
  // Pastor, Prince and King are: "Dean Martin" keeps his first name).
  'senator',
  'sen',
  'rep',
  'gov',
  'governor',
  'rt',
  'pres',
  'president',
  'mayor',
  'chancellor',
  'amb',
  'ambassador',
  'cllr',
  'hrh',
  'rabbi',
  'imam',
  'sheikh',
  'bishop',
  'cardinal',
  'msgr',
  'pvt',
  'pfc',
  'cpl',
  'ssgt',
  'cpt',
  'adm',
  'cmdr',
  'brig',
  'det',
  'insp',
  'supt',
  'dott',
  'avv',
  'mgr',
  // Ranks and offices written as one word with their dots: Lt.Gen., Lt.Gov., Maj.Gen., Rt.Rev.
  'ltgen',
  'ltgov',
  'ltcol',
  'ltcdr',
  'majgen',
  'brigen',
  'briggen',
  'rtrev',
  'rthon',
]);

/** Honorifics that stand before a given name, never a surname alone: "Sir Gerald", "Dame Judi". */
const BEFORE_GIVEN_NAME = new Set(['sir', 'dame']);

/** Generational suffixes and the post-nominals (degrees, credentials, honours, offices) people put after a name. */
const SUFFIXES = new Set([
  'jr',
  'sr',
  'ii',
  'iii',
  'iv',
  'v',
  '2nd',
  '3rd',
  'phd',
  'md',
  'dds',
  'dmd',
  'esq',
  'cpa',
  'mba',
  'rn',
  'jd',
  'dvm',
  'ret',
  'obe',
  'mbe',
  'cbe',
  'qc',
  'kc',
  'pe',
  'facp',
  'clu',
  'cfp',
  'chfc',
  'cfa',
  'cma',
  'cia',
  'cisa',
  'cissp',
  'pmp',
  'np',
  'lpn',
  'lcsw',
  'msw',
  'mph',
  'mpa',
  'msc',
  'bsc',
  'llm',
  'llb',
  'edd',
  'psyd',
  'dmin',
  'mp',
  'mep',
  'msp',
  'mla',
  'kbe',
  'dbe',
  'frcs',
  'frcp',
  'faia',
  'aia',
  'sphr',
  'shrm',
  // Designations of insurance and financial advisers, which CRMs of that trade hold after most names.
  'lutc',
  'cpcu',
  'ricp',
  'crpc',
  'cebs',
  'cltc',
  'casl',
  'cfs',
  'crps',
  'cdfa',
  'cpfa',
  'aif',
  'fsa',
  'fcas',
  'cfe',
  'cams',
  'cgma',
  'mcp',
  // Not here, though they are degrees: Ms (an honorific), Ma and Do (surnames), BA, OD.
]);

/** Lower-case words that belong to the surname that follows them. */
const PARTICLES = new Set([
  'van',
  'von',
  'der',
  'den',
  'de',
  'del',
  'della',
  'di',
  'da',
  'do',
  'dos',
  'das',
  'du',
  'la',
  'le',
  'ter',
  'ten',
  'st',
  'ste',
  'saint',
  'bin',
  'binti',
  'ibn',
  'al',
  'el',
  'af',
  'zu',
  'mac',
  'mc',
]);

/**
 * Particles that are also given names or initials when capitalised ("John Ben Smith" has a middle name Ben):
 * taken as particles only in lower case, in a name that is not all lower case ("Ahmed ben Husain").
 */
const LOWER_PARTICLES = new Set(['ben', 'bat', 'ap']);
/** "Velasquez y Garcia", "Silva e Souza", "Miró i Ferrà": a conjunction joins two surnames into one. */
const CONJUNCTIONS = new Set(['y', 'e', 'i']);
/** "John and Jane Smith", "Mr. & Mrs. John Smith": two people in one name. */
const HOUSEHOLD = /^(.+?)\s+(?:and|&|\+)\s+(.+)$/i;
/** Emoji and other symbols, which are no part of a name. */
const SYMBOLS = /\p{Extended_Pictographic}|\p{So}|\u200d|\ufe0f/gu;

/** A lower-case token without its dots and commas, as the word lists hold it. */
const unmarked = (lower: string): string =>
  lower.includes('.') || lower.includes(',') ? lower.replace(/[.,]/g, '') : lower;
const bare = (token: string): string => unmarked(token.toLowerCase());
// The length checks come first: most tokens are longer than any word in these lists, and this runs per row.
// `lower`: the token already lower-cased, where the caller has it (the two-word fast path tests one word twice).
const isHonorific = (token: string, lower?: string): boolean =>
  token.length <= 11 && HONORIFICS.has(unmarked(lower ?? token.toLowerCase()));
/** Two initials with dots ("J.R.", "J.R") are a first and middle initial, never the suffix Jr or Sr. */
const INITIALS = /^[A-Za-z]\.[A-Za-z]\.?$/;
/**
 * A degree written as abbreviations with their dots, at least one of more than one letter: Msc.Ed., Ph.D.,
 * B.Sc. Initials (J.R., E.T.) have one letter each; ranks written so (Lt.Gen.) are honorifics, tested first.
 */
const DOTTED_DEGREE = /^(?:[A-Za-z]{1,4}\.){2,4}$/;
const DOTTED_INITIALS = /^(?:[A-Za-z]\.)+$/;
/** "V" alone is only a suffix after a full name: "John Smith V", never as a lone initial "V." with a dot. */
const isSuffix = (token: string): boolean => {
  if (token.length > 8) return false;
  if (token.length <= 6) {
    const word = bare(token);
    if (SUFFIXES.has(word))
      return !(word === 'v' && token.endsWith('.')) && !((word === 'jr' || word === 'sr') && INITIALS.test(token));
  }
  // Most tokens have no dot: the expressions run for the few that do.
  return token.includes('.') && DOTTED_DEGREE.test(token) && !DOTTED_INITIALS.test(token);
};
/**
 * A credential the list above lacks, after a comma behind a full name written in mixed case ("John Doe, CLU,
 * LUTC"): three to five capitals and no given name. Not "Smith, JOHN" (a given name), "Lee, TJ" (initials)
 * nor "SMITH, JOHN" (all in capitals), which are "Last, First".
 */
const isAcronym = (token: string): boolean => /^[A-Z]{3,5}$/.test(token) && !isGivenName(token);
/**
 * A comma part that is only post-nominals: each token one, or the whole written with spaces ("Ph. D."). With
 * `acronyms` (asked only when a token is no known suffix: behind a full name in mixed case), an unknown
 * all-capital acronym counts too.
 */
const isSuffixPart = (part: string, acronyms?: () => boolean): boolean => {
  const tokens = splitAt(part, ' ');
  const initials = tokens.every((t) => /^[A-Za-z]\.?$/.test(t));
  return (
    tokens.every((t) => isSuffix(t) || (acronyms !== undefined && isAcronym(t) && acronyms())) ||
    (tokens.length > 1 && tokens.length <= 3 && !initials && SUFFIXES.has(bare(tokens.join(''))))
  );
};
const isParticle = (token: string, cased: boolean): boolean =>
  token.length <= 6 && (PARTICLES.has(bare(token)) || (cased && LOWER_PARTICLES.has(token)));

/** A generational or degree suffix that is never a surname: Jr, Sr, II, III, IV, PhD, MD ("V" can be an initial). */
const isGenerational = (token: string): boolean => isSuffix(token) && bare(token) !== 'v';
/** A particle written in lower case, as particles are inside a name (van, de, von, da). */
const isLowerParticle = (token: string, lower = token.toLowerCase()): boolean =>
  token === lower && PARTICLES.has(token);

const NON_ASCII = /[^\x20-\x7e]/;
const NICKNAME_MARK = /["“(]/;
/** A word that opens with a single quote: 'Bobby' (an apostrophe inside a name, O'Malley, is none). */
const SINGLE_QUOTED = /(?:^| )'[^'\s]/;
const hasNickname = (text: string): boolean =>
  NICKNAME_MARK.test(text) || (text.includes("'") && SINGLE_QUOTED.test(text));
/** What sends a two-word name down the general path: a comma or a nickname mark. */
const SPECIAL = /[,"“(]|(?:^| )'/;

/**
 * `text.split(separator)` for a one-character separator, appended to `into`. Hand-written: V8's split takes
 * ~160 ns on a name of two or three words, this ~75 (measured on the benchmark's names), and the general
 * path below splits each name three to five times.
 */
function splitAt(text: string, separator: string, into: string[] = []): string[] {
  let from = 0;
  for (let at = text.indexOf(separator); at !== -1; at = text.indexOf(separator, from)) {
    into.push(text.slice(from, at));
    from = at + 1;
  }
  into.push(text.slice(from));
  return into;
}

const joined = (tokens: readonly string[]): string | null => (tokens.length === 0 ? null : tokens.join(' '));

/**
 * A name's shape in one pass, for printable ASCII text (what most names are): its count of spaces, with
 * UNTIDY set for a space at either end or doubled and SPECIAL for a comma or a nickname mark. NOT_PLAIN for
 * any other text, which the expressions above read instead. Hand-written: the three expressions and the
 * space searches it replaces cost ~80 ns a name on the benchmark's data, this ~15.
 */
const NOT_PLAIN = -1;
const UNTIDY = 1 << 20;
const SPECIAL_MARK = 1 << 21;
function plainShape(text: string): number {
  let shape = 0;
  const n = text.length;
  for (let i = 0; i < n; i++) {
    const c = text.charCodeAt(i);
    if (c < 0x20 || c > 0x7e) return NOT_PLAIN;
    if (c === 0x20) {
      shape += 1;
      if (i === 0 || i === n - 1 || text.charCodeAt(i - 1) === 0x20) shape |= UNTIDY;
    } else if (c === 0x2c || c === 0x22 || c === 0x28 || (c === 0x27 && (i === 0 || text.charCodeAt(i - 1) === 0x20)))
      shape |= SPECIAL_MARK;
  }
  return shape;
}

export function parsePersonName(input: unknown): PersonName {
  if (typeof input !== 'string') return EMPTY;
  // Each clean-up runs only when the text needs it: most names need none, and this runs per row.
  let text = input;
  let flags = NO_FLAGS;
  let shape = plainShape(text);
  if (shape === NOT_PLAIN || (shape & UNTIDY) !== 0) {
    if (NON_ASCII.test(text)) {
      text = text.normalize('NFC');
      const stripped = text.replace(SYMBOLS, ' ');
      if (stripped !== text) [text, flags] = [stripped, ['symbols_dropped']];
    }
    text = collapseSpaces(text);
    shape = plainShape(text);
  }
  if (text === '') return flags === NO_FLAGS ? EMPTY : { ...EMPTY, flags };
  // A household needs three words at least ("John & Jane"): the usual two-word name is never tested for one.
  const space = text.indexOf(' ');
  const household = space > 0 && text.indexOf(' ', space + 1) !== -1 ? householdOf(text) : undefined;
  if (household) return { ...household, flags: [...flags, 'household'] };
  const name = parseOne(text, shape);
  return flags === NO_FLAGS ? name : { ...name, flags: [...flags, ...name.flags] };
}

/**
 * Two people in one name, parsed to the first, the other kept as the partner: "Mr. and Mrs. John Smith" (Mr.
 * John Smith; Mrs. Smith), "John and Jane Smith" (John Smith; Jane Smith), "John Smith & Jane Doe", "Smith, John
 * and Jane". Undefined when the name is not one of these shapes (a firm, "Procter and Gamble", is not).
 */
function householdOf(text: string): PersonName | undefined {
  const m = HOUSEHOLD.exec(text);
  if (!m?.[1] || !m[2]) return undefined;
  const left = splitAt(m[1], ' ');
  const right = splitAt(m[2], ' ');
  if (left.every((token) => isHonorific(token)) && right.length >= 2 && isHonorific(right[0] ?? '')) {
    const theirs: string[] = [];
    while (right.length > 1 && isHonorific(right[0] ?? '')) theirs.push(right.shift() ?? '');
    const first = parseOne(`${m[1]} ${right.join(' ')}`);
    return { ...first, partner: first.last ? `${theirs.join(' ')} ${first.last}` : theirs.join(' ') };
  }
  if (left.length === 1 && !isHonorific(left[0] ?? '') && right.length >= 2) {
    const second = parseOne(m[2]);
    return second.last ? { ...parseOne(`${m[1]} ${second.last}`), partner: m[2] } : undefined;
  }
  if (left.length >= 2 && right.length === 1 && m[1].includes(',')) {
    const first = parseOne(m[1]);
    return first.last ? { ...first, partner: `${m[2]} ${first.last}` } : undefined;
  }
  if (left.length >= 2 && right.length >= 2 && !m[1].includes(',')) return { ...parseOne(m[1]), partner: m[2] };
  return undefined;
}

/** Two words, tidy, with no comma or nickname mark: "First Last", the shape most names have. */
function isTwoPlainWords(text: string, shape: number): boolean {
  if (shape !== NOT_PLAIN) return shape === 1;
  const space = text.indexOf(' ');
  return space > 0 && text.indexOf(' ', space + 1) === -1 && !SPECIAL.test(text);
}

function parseOne(text: string, shape = plainShape(text)): PersonName {
  // Most names are two plain words, "First Last": answered without the general machinery below, which
  // gives the same result for them (test/person-name.test.ts holds both paths to the same table).
  if (isTwoPlainWords(text, shape)) {
    const space = text.indexOf(' ');
    const first = text.slice(0, space);
    const second = text.slice(space + 1);
    // Not "Dr. Smith", "Smith Jr." (a surname and its suffix) nor "van Dijk" (a surname with its particle).
    // The first word lower-cased once serves both of its tests.
    const lower = first.toLowerCase();
    if (!isHonorific(first, lower) && !isLowerParticle(first, lower) && !isGenerational(second))
      return {
        honorific: null,
        first,
        middle: null,
        last: second,
        suffix: null,
        nickname: null,
        partner: null,
        flags: NO_FLAGS,
      };
  }

  // A nickname in quotes or parentheses: William "Bill" Smith, Robert (Bob) Jones. A second parenthesis is a
  // note, not a name ("(Unknown)"): dropped and flagged, never read as a part.
  let nickname: string | null = null;
  let flags = NO_FLAGS;
  if (hasNickname(text)) {
    text = text
      .replace(
        /\s*(?:"([^"]+)"|“([^”]+)”|\(([^)]+)\)|(?<=^| )'([^'\s][^']*)'(?= |$))\s*/,
        (_m, a?: string, b?: string, c?: string, d?: string) => {
          nickname = (a ?? b ?? c ?? d ?? '').trim() || null;
          return ' ';
        },
      )
      .trim();
    const noted = text.replace(/\s*\([^)]*\)\s*/g, ' ').trim();
    if (noted !== text) [text, flags] = [noted.replace(/\s+,/g, ','), ['parenthesis_dropped']];
  }

  // Comma-separated parts; a part made only of suffixes ("Jr.", "PhD") is a suffix, wherever it stands. Behind
  // a full name in mixed case, an acronym is a credential too: "John Doe, CLU, LUTC" is never "LUTC John Doe".
  const suffixes: string[] = [];
  const comma = text.indexOf(',');
  let mixed: boolean | undefined;
  const behindFullName = () =>
    (mixed ??= text.lastIndexOf(' ', comma) > 0 && text !== text.toUpperCase() && text !== text.toLowerCase());
  const parts: string[] = [];
  if (comma < 0) parts.push(text);
  else {
    let nonEmpty = 0;
    for (const piece of splitAt(text, ',')) {
      const part = piece.trim();
      if (part === '') continue;
      if (isSuffixPart(part, nonEmpty++ > 0 ? behindFullName : undefined)) suffixes.push(part);
      else parts.push(part);
    }
  }

  let givenTokens: string[];
  let lastTokens: string[] | undefined;
  if (parts.length >= 2) {
    // "Last, First Middle" (and "Last, First, Middle" read the same way).
    lastTokens = splitAt(parts[0] ?? '', ' ');
    givenTokens = [];
    for (let i = 1; i < parts.length; i++) splitAt(parts[i] ?? '', ' ', givenTokens);
  } else {
    // Spaces were tidied above (single, none at the ends), so a plain split yields no empty tokens.
    givenTokens = parts[0] === undefined ? [] : splitAt(parts[0], ' ');
  }

  const honorifics: string[] = [];
  while (givenTokens.length > 1 && isHonorific(givenTokens[0] ?? '')) honorifics.push(givenTokens.shift() ?? '');
  if (lastTokens) {
    while (lastTokens.length > 1 && isHonorific(lastTokens[0] ?? '')) honorifics.push(lastTokens.shift() ?? '');
    while (lastTokens.length > 1 && isSuffix(lastTokens.at(-1) ?? '')) suffixes.unshift(lastTokens.pop() ?? '');
  }
  const trailing: string[] = [];
  // Two words keep a last "V" (a surname initial as often as a suffix); "Smith Jr." is a surname and its suffix.
  while (
    givenTokens.length > 1 &&
    isSuffix(givenTokens.at(-1) ?? '') &&
    (lastTokens !== undefined || givenTokens.length > 2 || isGenerational(givenTokens.at(-1) ?? ''))
  ) {
    trailing.unshift(givenTokens.pop() ?? '');
  }
  // Trailing suffixes stand before those found in separate comma parts: "John Smith Jr., PhD".
  suffixes.unshift(...trailing);

  if (!lastTokens) {
    if (givenTokens.length === 1 && honorifics.length === 0 && isHonorific(givenTokens[0] ?? '')) {
      return { ...EMPTY, honorific: givenTokens[0] ?? null, suffix: joined(suffixes), nickname, flags };
    }
    // After Sir or Dame one word is a given name: "Sir Gerald".
    if (givenTokens.length === 1 && honorifics.length > 0 && BEFORE_GIVEN_NAME.has(bare(honorifics.at(-1) ?? '')))
      return {
        ...EMPTY,
        honorific: joined(honorifics),
        first: givenTokens[0] ?? null,
        suffix: joined(suffixes),
        nickname,
        flags,
      };
    // One token is a surname: CRMs (Salesforce's LastName among them) treat the last name as the one required.
    let lastStart = givenTokens.length - 1;
    const cased = text !== text.toLowerCase();
    // A particle in lower case two words before the end takes both: "pennie von bergen wessels", "Carlos de la
    // Fuente Ramos". Not a capitalised one: "John Al Smith" keeps his middle name.
    const particle = givenTokens.length - 3;
    if (
      particle >= 1 &&
      isLowerParticle(givenTokens[particle] ?? '') &&
      !isParticle(givenTokens[particle + 1] ?? '', cased)
    )
      lastStart = particle;
    for (;;) {
      while (lastStart > 1 && isParticle(givenTokens[lastStart - 1] ?? '', cased)) lastStart -= 1;
      // A lower-case conjunction in a cased name joins the surname before it: "Juan Velasquez y Garcia".
      if (cased && lastStart > 2 && CONJUNCTIONS.has(givenTokens[lastStart - 1] ?? '')) {
        lastStart -= 2;
        continue;
      }
      break;
    }
    // Particles from the first word on make it all a surname: "van Dijk", "van der Berg", "Van der Berg" (a
    // capital Van before a lower-case particle). A capital Van alone is a given name: Van Morrison.
    const [head, next] = givenTokens;
    if (lastStart === 1 && head !== undefined && isParticle(head, cased)) {
      if (isLowerParticle(head) || (next !== undefined && givenTokens.length > 2 && isLowerParticle(next)))
        lastStart = 0;
    }
    lastTokens = givenTokens.slice(lastStart);
    givenTokens = givenTokens.slice(0, lastStart);
  }

  return {
    honorific: joined(honorifics),
    first: givenTokens[0] ?? null,
    middle: joined(givenTokens.slice(1)),
    last: joined(lastTokens),
    suffix: joined(suffixes),
    nickname,
    partner: null,
    flags,
  };
}
